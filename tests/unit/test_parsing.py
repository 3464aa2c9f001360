"""Every content type becomes the same validated entries; every bad body a clear 4xx."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.entry import InvalidEntry, LogEntry
from dashboard.parsing import IngestError, form_fields, nests_deeper_than, parse_body, parse_timestamp
from dashboard.protocol import LATEST_TIMESTAMP, MAX_FIELDS_DEPTH

NOW = 1_800_000_000.0


async def parse(content_type: str | None, body: bytes | str, query: dict[str, str] | None = None) -> list[LogEntry]:
    raw = body.encode() if isinstance(body, str) else body
    return await parse_body(content_type or "", raw, query or {}, NOW)


async def refused(content_type: str | None, body: bytes | str, query: dict[str, str] | None = None) -> IngestError:
    with pytest.raises(IngestError) as caught:
        await parse(content_type, body, query)
    return caught.value


async def test_form_fields_of_the_original_contract() -> None:
    [entry] = await parse("application/x-www-form-urlencoded",
                          "message=disk+full%21&level=warn&program=backup&timestamp=2026-11-25T10%3A00%3A00.250Z")
    assert entry == LogEntry(message="disk full!", level="WARNING", program="backup",
                             timestamp=dt.datetime(2026, 11, 25, 10, 0, 0, 250000, tzinfo=dt.UTC).timestamp())


async def test_form_defaults_and_raw_utf8_from_curl() -> None:
    [entry] = await parse("application/x-www-form-urlencoded; charset=utf-8", "message=héllo wörld ✓".encode())
    assert (entry.message, entry.level, entry.program, entry.timestamp) == ("héllo wörld ✓", "INFO", "api", NOW)


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", json.dumps({"message": "from Windows"})),
    ("application/x-ndjson", json.dumps({"message": "from Windows"})),
    ("text/plain", "from Windows"),
    ("application/x-www-form-urlencoded", "message=from+Windows"),
])
async def test_a_byte_order_mark_at_the_start_is_ignored(content_type: str, body: str) -> None:
    """PowerShell's and Notepad's UTF-8 starts with one: JSON was refused (422), a form lost its message
    field, and a text's first line started with an invisible U+FEFF."""
    [entry] = await parse(content_type, "\ufeff" + body)
    assert entry.message == "from Windows"
    assert (await refused("application/json", "\ufeff\ufeff" + body)).status_code == 422  # one only
    assert (await refused(content_type, "\ufeff")).status_code == 422  # nothing else: no entry


async def test_form_extra_keys_become_fields() -> None:
    [entry] = await parse("application/x-www-form-urlencoded", "message=hi&user=ann&fields=%7B%22n%22%3A1%7D")
    assert entry.fields() == {"user": "ann", "n": 1}


@pytest.mark.parametrize(("body", "expected"), [
    (b"a=1&b=2", {"a": "1", "b": "2"}),
    (b"a=1&a=2", {"a": "2"}),
    (b"a&b=", {"a": "", "b": ""}),
    (b"&&a=1&&", {"a": "1"}),
    (b"a=b=c", {"a": "b=c"}),
    (b"k%20x=v+w%2B", {"k x": "v w+"}),
    (b"m=%zz%&n=%4", {"m": "%zz%", "n": "%4"}),
    (b"m=%ff%E2%9C%93", {"m": "\ufffd✓"}),
    ("m=héllo+✓".encode(), {"m": "héllo ✓"}),
    (b"a;b=1", {"a;b": "1"}),
    (b"", {}),
])
def test_form_fields_decode_like_parse_qsl(body: bytes, expected: dict[str, str]) -> None:
    assert form_fields(body) == expected
    assert form_fields(body) == dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True,
                                               errors="replace"))


_FORM_PIECES = [b"a", b"b", b"c", b"e", b"F", b"Z", b"2", b"7", b"9", b" ", b"=", b"&", b"+", b"%",
                b"%2B", b"%2b", b"%7e", b"%41", b"%e2", b"%9C%93", b"\xc3\xa9", b"\xff"]
_FORM_BYTES = st.lists(st.sampled_from(_FORM_PIECES), max_size=40).map(b"".join)


@settings(max_examples=2000)
@given(body=_FORM_BYTES)
def test_any_form_body_decodes_like_parse_qsl(body: bytes) -> None:
    assert form_fields(body) == dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True,
                                               errors="replace"))


async def test_multipart_form() -> None:
    body = ("--XyZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nline one\nline two\r\n"
            "--XyZ\r\nContent-Disposition: form-data; name=\"level\"\r\n\r\nerror\r\n--XyZ--\r\n")
    [entry] = await parse("multipart/form-data; boundary=XyZ", body)
    assert (entry.message, entry.level) == ("line one\nline two", "ERROR")


async def test_multipart_file_upload_is_refused() -> None:
    body = ("--XyZ\r\nContent-Disposition: form-data; name=\"message\"; filename=\"a.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n")
    error = await refused("multipart/form-data; boundary=XyZ", body)
    assert (error.status_code, error.detail) == (422, "file uploads are not accepted; send message as a text field")


async def test_malformed_multipart_is_422() -> None:
    error = await refused("multipart/form-data", "no boundary here")
    assert error.status_code == 422 and "multipart" in error.detail


async def test_json_object_with_fields_and_numeric_timestamp() -> None:
    [entry] = await parse("application/json", json.dumps(
        {"message": "paid", "level": 20, "program": "billing", "timestamp": 1_700_000_000.5,
         "fields": {"order": 42, "tags": ["a"]}, "region": "eu"}))
    assert entry == LogEntry(message="paid", level="INFO", program="billing", timestamp=1_700_000_000.5,
                             fields_json=b'{"region":"eu","order":42,"tags":["a"]}')


async def test_json_batch_keeps_order() -> None:
    entries = await parse("application/json", json.dumps([{"message": f"m{i}"} for i in range(1000)]))
    assert [entry.message for entry in entries] == [f"m{i}" for i in range(1000)]


async def test_json_batch_over_1000_is_refused_whole() -> None:
    error = await refused("application/json", json.dumps([{"message": "x"}] * 1001))
    assert (error.status_code, error.detail) == (422, "a batch holds at most 1000 entries, this one has 1001")


async def test_one_bad_entry_rejects_the_batch_and_names_it() -> None:
    error = await refused("application/json", json.dumps([{"message": "ok"}, {"level": "INFO"}]))
    assert (error.status_code, error.detail) == (422, "entry 2: message is required")


@pytest.mark.parametrize(("body", "reason"), [
    ("{not json", "body is not valid JSON"),
    ('"just a string"', "each entry must be a JSON object"),
    ("[1, 2]", "entry 1: each entry must be a JSON object"),
    ('{"message": 5}', "message must be a string"),
    ('{"message": ""}', "message is required"),
    ('{"message": "x", "fields": [1]}', "fields must be a JSON object"),
    ('{"message": "x", "program": 7}', "program must be a string"),
    ('{"message": "x", "timestamp": "yesterday"}', "is not ISO 8601"),
    ('{"message": "x", "timestamp": -5}', "out of range"),
    ('{"message": "x", "level": "no such level!"}', "level must be"),
    ("[]", "the body holds no log entry"),
])
async def test_invalid_json_entries_are_422(body: str, reason: str) -> None:
    error = await refused("application/json", body)
    assert error.status_code == 422 and reason in error.detail


async def test_message_limit_is_64_kib_of_utf8() -> None:
    [entry] = await parse("application/json", json.dumps({"message": "a" * 65536}))
    assert len(entry.message) == 65536
    error = await refused("application/json", json.dumps({"message": "é" * 32769}))  # 65,538 bytes
    assert (error.status_code, error.detail) == (422, "message is longer than 64 KiB")


async def test_ndjson_one_entry_per_line_skipping_blank_lines() -> None:
    body = '{"message": "a", "level": "debug"}\n\n{"message": "b"}\r\n'
    entries = await parse("application/x-ndjson", body, {"program": "cron"})
    assert [(e.message, e.level, e.program) for e in entries] == [("a", "DEBUG", "cron"), ("b", "INFO", "cron")]


async def test_ndjson_bad_line_is_named() -> None:
    error = await refused("application/x-ndjson", '{"message": "a"}\n{oops\n')
    assert error.status_code == 422 and error.detail.startswith("line 2 is not valid JSON")


async def test_text_lines_take_level_and_program_from_query() -> None:
    body = "first\n\n   \n  indented second\r\nthird"
    entries = await parse("text/plain", body, {"level": "warn", "program": "tail"})
    assert [(e.message, e.level, e.program) for e in entries] == [
        ("first", "WARNING", "tail"), ("  indented second", "WARNING", "tail"), ("third", "WARNING", "tail")]


async def test_text_keeps_undecodable_bytes_as_replacement_characters() -> None:
    [entry] = await parse("text/plain", b"bad \xff byte")
    assert entry.message == "bad \ufffd byte"


async def test_text_over_1000_lines_is_refused() -> None:
    error = await refused("text/plain", "\n".join(["x"] * 1001))
    assert error.status_code == 422 and "at most 1000" in error.detail


async def test_bad_query_level_is_422() -> None:
    error = await refused("text/plain", "x", {"level": "!!"})
    assert error.status_code == 422 and error.detail.startswith("query parameter: level")


@pytest.mark.parametrize("content_type", [None, "application/xml", "image/png", "text/html"])
async def test_unknown_content_type_is_415(content_type: str | None) -> None:
    error = await refused(content_type, "message=x")
    assert error.status_code == 415 and "application/json" in error.detail


@pytest.mark.parametrize(("content_type", "said"), [
    (None, "no Content-Type;"), ("application/xml", "unsupported content type 'application/xml';"),
    (";;;", "the Content-Type ';;;' names no media type;"),  # was "unsupported content type 'none'"
])
async def test_a_415_says_what_was_wrong_with_the_content_type(content_type: str | None, said: str) -> None:
    error = await refused(content_type, "message=x")
    assert error.status_code == 415 and error.detail.startswith(said)


async def test_ndjson_lines_end_at_newlines_and_a_lone_carriage_return_is_whitespace() -> None:
    body = '{"message":\r"one"}\r\n{"message": "two"}\n\r\n'
    assert [entry.message for entry in await parse("application/x-ndjson", body)] == ["one", "two"]


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-25T10:00:00Z", 1795600800.0),
    ("2026-11-25T11:00:00+01:00", 1795600800.0),
    ("2026-11-25T10:00:00", 1795600800.0),  # no offset: UTC
    ("2026-11-25 10:00:00.5", 1795600800.5),
    (1795600800, 1795600800.0),
    (1795600800123, 1795600800.123),  # milliseconds
    ("1795600800.25", 1795600800.25),
    (None, NOW),
    ("", NOW),
])
def test_timestamp_formats(value: object, expected: float) -> None:
    assert parse_timestamp(value, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("value", [
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00",
    "1969-12-31T23:59:59Z", -1, 1e300, "1e999", "-0.5",
    "1_700_000_000", "nan", "inf", True, [1], {"s": 1},
    "\u0661\u0667" + "\u0660" * 8, "\uff11\uff17" + "\uff10" * 8,  # Arabic-Indic and full-width digits
])
def test_timestamps_out_of_range_or_not_ascii_numbers_are_refused(value: object) -> None:
    with pytest.raises(InvalidEntry, match="timestamp"):
        parse_timestamp(value, NOW)


def test_the_documented_range_ends_are_accepted() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z", NOW) == 0
    assert parse_timestamp("9999-01-01T00:00:00Z", NOW) == LATEST_TIMESTAMP
    assert parse_timestamp(str(int(LATEST_TIMESTAMP * 1000)), NOW) == LATEST_TIMESTAMP


@pytest.mark.parametrize("depth", [MAX_FIELDS_DEPTH + 1, 300, 1000])
async def test_fields_nested_too_deep_are_refused(depth: int) -> None:
    body = '{"message": "m", "fields": {"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}}"
    error = await refused("application/json", body)
    assert error.status_code == 422
    assert error.detail == f"fields nest more than {MAX_FIELDS_DEPTH} objects or arrays deep"


def _depth(value: object) -> int:
    """How deep `value` nests, itself counting as one: the plain recursive model of `nests_deeper_than`."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max((_depth(child) for child in children), default=0)


# JSON values, with keys and strings full of brackets, quotes and backslashes (which must not count).
_TRICKY_TEXT = st.text(alphabet='[]{}"\\ab', max_size=8)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | _TRICKY_TEXT,
                     lambda children: st.lists(children, max_size=4) | st.dictionaries(_TRICKY_TEXT, children,
                                                                                          max_size=4),
                     max_leaves=40)


@given(value=_JSON, depth=st.integers(min_value=0, max_value=12))
def test_how_deep_fields_nest_is_read_as_a_walk_would_read_it(value: object, depth: int) -> None:
    assert nests_deeper_than(value, depth) == (_depth(value) > depth)


def test_how_deep_fields_nest_past_what_orjson_writes() -> None:
    nested: list = []
    for _ in range(400):
        nested = [nested]
    assert nests_deeper_than(nested, MAX_FIELDS_DEPTH)


async def test_json_deeper_than_the_parser_goes_is_422() -> None:
    error = await refused("application/json", "[" * 5000 + "]" * 5000)
    assert error.status_code == 422 and "depth limit exceeded" in error.detail


async def test_fields_at_the_depth_limit_are_kept() -> None:
    nested: list = []
    for _ in range(MAX_FIELDS_DEPTH - 2):
        nested = [nested]
    [entry] = await parse("application/json", json.dumps({"message": "m", "fields": {"a": nested}}))
    assert entry.fields() == {"a": nested}


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**30])
async def test_integers_beyond_64_bits_are_refused_not_turned_into_floats(number: int) -> None:
    for content_type, body in (("application/json", json.dumps({"message": "m", "fields": {"n": number}})),
                               ("application/x-ndjson", json.dumps({"message": "m", "n": number})),
                               ("application/x-www-form-urlencoded", f'message=m&fields={{"n":{number}}}')):
        error = await refused(content_type, body)
        assert error.status_code == 422 and "does not fit in 64 bits; send it as a string" in error.detail


async def test_integers_at_the_64_bit_ends_and_long_digit_runs_in_text_are_kept() -> None:
    body = json.dumps({"message": "trace 12345678901234567890123", "fields": {"hi": 2**64 - 1, "lo": -(2**63)}})
    [entry] = await parse("application/json", body)
    assert entry.fields() == {"hi": 2**64 - 1, "lo": -(2**63)}
    assert entry.message == "trace 12345678901234567890123"


async def test_an_integer_of_hundreds_of_digits_gets_the_64_bit_answer() -> None:
    error = await refused("application/json", '{"message": "m", "fields": {"n": ' + "9" * 5000 + "}}")
    assert error.status_code == 422 and "does not fit in 64 bits; send it as a string" in error.detail


async def test_a_key_both_beside_and_inside_fields_is_refused_not_dropped() -> None:
    error = await refused("application/json", json.dumps({"message": "x", "fields": {"a": 1}, "a": 2}))
    assert (error.status_code, error.detail) == (422, "'a' is both a key of the entry and of its fields: send it once")
    [entry] = await parse("application/json", json.dumps({"message": "x", "fields": {"a": 1}, "b": 2}))
    assert entry.fields() == {"b": 2, "a": 1}


async def test_a_long_content_type_is_parsed_but_not_remembered() -> None:
    # Header values have no size limit: 64 of 4 MB each, kept by the cache, held 380 MB.
    from dashboard.parsing import _cached_content_type

    before = _cached_content_type.cache_info().currsize
    [entry] = await parse("text/plain; a=" + "b" * 100_000, "line")
    assert entry.message == "line"
    assert _cached_content_type.cache_info().currsize == before


async def test_a_declared_charset_is_how_the_body_is_read() -> None:
    # It was ignored: `caf\xe9` sent as latin-1 text was stored as `caf\ufffd`, UTF-16 JSON read as UTF-8.
    text = await parse("text/plain; charset=latin-1", b"caf\xe9\nna\xefve")
    assert [entry.message for entry in text] == ["café", "naïve"]
    assert [entry.message for entry in await parse("text/plain;charset=Windows-1252", b"\x80 5")] == ["€ 5"]
    [utf16] = await parse('application/json; charset="UTF-16"', json.dumps({"message": "héllo"}).encode("utf-16"))
    assert utf16.message == "héllo"
    ndjson = '{"message": "a"}\n{"message": "日本"}'.encode("utf-16-le")
    lines = await parse("application/x-ndjson; charset=utf-16-le", ndjson)
    assert [entry.message for entry in lines] == ["a", "日本"]
    # A form's %-escapes are bytes of its charset too.
    [form] = await parse("application/x-www-form-urlencoded; charset=iso-8859-1", b"message=caf%E9+ol\xe9&level=warn")
    assert (form.message, form.level) == ("café olé", "WARNING")
    [utf8] = await parse("application/x-www-form-urlencoded; charset=UTF-8", "message=caf%C3%A9")
    assert utf8.message == "café"


async def test_bytes_not_of_the_declared_charset() -> None:
    # JSON is read strictly, as its UTF-8 is; text keeps the line, as it does for stray UTF-8 bytes.
    error = await refused("application/json; charset=shift_jis", b'{"message": "\x81"}')
    assert (error.status_code, error.detail) == (422, "the body is not valid shift_jis text")
    [line] = await parse("text/plain; charset=shift_jis", b"ok \x81")
    assert line.message == "ok \ufffd"


@pytest.mark.parametrize("charset", ["nope", "base64", "rot13", "zlib", "undefined", "..os", "", "x" * 300])
async def test_a_charset_that_is_not_a_text_encoding_is_a_415(charset: str) -> None:
    error = await refused(f"text/plain; charset={charset}", "line")
    assert error.status_code == 415 and error.detail.startswith(f"unsupported charset {charset[:64]!r}")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1).filter(str.strip),
                min_size=1, max_size=5),
       st.sampled_from(["utf-16", "utf-32", "utf-8", "gb18030"]))
async def test_text_in_any_charset_that_holds_it_is_read_back_whole(lines: list[str], charset: str) -> None:
    entries = await parse(f"text/plain; charset={charset}", "\n".join(lines).encode(charset))
    assert [entry.message for entry in entries] == lines


async def test_made_up_charsets_hold_no_memory() -> None:
    # Python's codec registry remembers each name it failed to find: such names are never looked up.
    import encodings

    before = len(encodings._cache)  # type: ignore[attr-defined]
    for n in range(200):
        await refused(f"text/plain; charset=made-up-{n}", "line")
    assert len(encodings._cache) == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("charset", ["punycode", "idna", "unicode_escape", "raw-unicode-escape"])
async def test_python_s_own_codecs_are_not_charsets(charset: str) -> None:
    # punycode's decoder takes time that grows with the square of the body: 1 MiB held the server 30 s.
    error = await refused(f"text/plain; charset={charset}", b"x" * 1000 + b"-" + b"a" * 1000)
    assert error.status_code == 415


async def test_a_charset_named_twice_is_a_415_whatever_the_type() -> None:
    # Our parser took the first and Starlette's multipart parser the last, unchecked.
    for content_type in ("text/plain; charset=latin-1; charset=utf-8",
                         "multipart/form-data; boundary=X; charset=utf-8; charset=made-up"):
        error = await refused(content_type, "x")
        assert (error.status_code, error.detail) == (415, "the content type names its charset more than once")


async def test_a_multipart_charset_reaches_the_parser_as_the_checked_codec_name() -> None:
    import encodings

    body = b'--X\r\nContent-Disposition: form-data; name="message"\r\n\r\ncaf\xe9\r\n--X--\r\n'
    [entry] = await parse("multipart/form-data; boundary=X; charset=latin-1", body)
    assert entry.message == "café"
    before = len(encodings._cache)  # type: ignore[attr-defined]
    for n in range(2, 50):  # spellings of a known name: each was remembered by the codec registry
        [entry] = await parse(f"multipart/form-data; boundary=X; charset=latin{'-' * n}1", body)
        assert entry.message == "café"
    assert len(encodings._cache) == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("charset", ["utf-16-le", "cp037", "utf-7"])
async def test_a_form_s_charset_must_read_ascii_as_ascii(charset: str) -> None:
    # Its separators and %-escapes are ASCII: in UTF-16 `message=ab%E9` came out as `扡é`.
    error = await refused(f"application/x-www-form-urlencoded; charset={charset}", "message=ab%E9".encode(charset))
    assert error.status_code == 415 and error.detail.startswith("a form's charset must read ASCII as ASCII")


async def test_a_body_larger_than_the_limit_once_read_as_utf8_is_a_413() -> None:
    # Each of these bytes is a 3-byte character in UTF-8: 350 KiB sent would be over 1 MiB stored.
    error = await refused("text/plain; charset=cp437", b"\xc4" * 350 * 1024)
    assert error.status_code == 413 and "once read as UTF-8" in error.detail
    [entry] = await parse("text/plain; charset=cp437", b"\xc4" * 20_000)
    assert entry.message == "─" * 20_000


async def test_utf16_and_utf32_without_a_byte_order_mark_are_big_endian() -> None:
    # RFC 2781: Python alone reads them in this machine's order (little-endian), `hé` as `栀꤀`.
    for charset, encoded in (("utf-16", "hé".encode("utf-16-be")), ("UTF-32", "hé".encode("utf-32-be")),
                             ("utf-16", "hé".encode("utf-16")), ("utf-32", "hé".encode("utf-32"))):
        [entry] = await parse(f"text/plain; charset={charset}", encoded)
        assert entry.message == "hé", charset


async def test_a_multipart_field_with_a_stray_byte_keeps_its_valid_characters() -> None:
    # Starlette read the whole field as Latin-1: "price â\x82¬5 café" (with a C1 control).
    body = b'--X\r\nContent-Disposition: form-data; name="message"\r\n\r\nprice \xe2\x82\xac5 caf\xe9\r\n--X--\r\n'
    [entry] = await parse("multipart/form-data; boundary=X", body)
    assert entry.message == "price €5 caf\ufffd"


@pytest.mark.parametrize(("body_charset", "part_type", "data", "message"), [
    ("", "text/plain; charset=utf-16", "hé €".encode("utf-16"), "hé €"),
    ("; charset=latin-1", "text/plain; charset=utf-8", "hé €".encode(), "hé €"),
    ("; charset=latin-1", "text/plain", "hé".encode("latin-1"), "hé"),
    ("", 'text/plain; charset="iso-8859-15"', "€".encode("iso-8859-15"), "€"),
    ("", "text/plain; charset=utf-16", "héllo".encode("utf-16-be"), "héllo"),  # no byte order mark: big-endian
    ("; charset=utf-32", "text/plain", "héllo".encode("utf-32-be"), "héllo"),
    ("; charset=latin-1", "text/plain; x-nocharset=1", "é".encode("latin-1"), "é"),  # names no charset
])
async def test_a_multipart_part_is_read_in_the_charset_it_names_else_the_body_s(
        body_charset: str, part_type: str, data: bytes, message: str) -> None:
    body = (b'--X\r\nContent-Disposition: form-data; name="message"\r\nContent-Type: ' + part_type.encode()
            + b"\r\n\r\n" + data + b"\r\n--X--\r\n")
    [entry] = await parse(f"multipart/form-data; boundary=X{body_charset}", body)
    assert entry.message == message


async def test_a_multipart_part_naming_an_unknown_charset_is_a_415() -> None:
    body = (b'--X\r\nContent-Disposition: form-data; name="message"\r\nContent-Type: text/plain; charset=made-up'
            b"\r\n\r\nhello\r\n--X--\r\n")
    error = await refused("multipart/form-data; boundary=X", body)
    assert (error.status_code, error.detail) == (415, "unsupported charset 'made-up'; send UTF-8, or name a text "
                                                      "encoding")

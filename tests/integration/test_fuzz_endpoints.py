"""Generated inputs (hypothesis) for every HTTP endpoint, against real servers on both buses.

Whatever arrives, the answer is a success or a clear 4xx JSON error, never a 5xx or a hang; and
every entry that is accepted reads back exactly as the README documents it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import string
import urllib.parse
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.servers import AppProcess, running_app, running_redis

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                derandomize=True)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC).timestamp()
ALIASES = {"warn": "WARNING", "fatal": "CRITICAL", "crit": "CRITICAL", "err": "ERROR", "dbg": "DEBUG"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CONTENT_TYPES = ["application/json", "application/x-ndjson", "application/ndjson", "application/jsonl",
                 "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                 "multipart/form-data; boundary=xyz", "application/xml", "", "text/plain; charset=latin-1",
                 "text/plain; charset=utf-16", "application/json; charset=cp1252",
                 "application/x-ndjson; charset=utf-32", "application/x-www-form-urlencoded; charset=shift_jis",
                 "text/plain; charset=punycode"]
# Bodies as sent compressed: each coding applied to the (odd) body, or the body under a coding it lacks.
CODINGS = ["gzip", "deflate", "x-gzip", "gzip, deflate", "br", "identity"]


@pytest.fixture(scope="module", params=["memory", "redis"])
def server(request: pytest.FixtureRequest) -> Iterator[AppProcess]:
    if request.param == "memory":
        with running_app() as app:
            yield app
    else:
        with running_redis() as redis, running_app("--redis-url", redis.url) as app:
            yield app


@pytest.fixture(scope="module")
def http(server: AppProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=15) as client:
        yield client


def new_stream() -> str:
    return str(uuid.uuid4())


def assert_answered_well(response: httpx.Response) -> None:
    """Not a 5xx; a 4xx is JSON with a `detail` that says why."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400 and response.request.method != "HEAD":
        assert response.headers["content-type"].startswith("application/json"), response.text[:300]
        assert isinstance(response.json()["detail"], str)


# --- any bytes, any shape ---------------------------------------------------------------------------

text = st.text(st.characters(codec="utf-8"), max_size=40)
json_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | \
    st.floats(allow_nan=False, allow_infinity=False) | text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(text, inner, max_size=4), max_leaves=12)
entry_like = st.dictionaries(st.sampled_from(["message", "level", "program", "timestamp", "fields", "x"]),
                             json_values, max_size=5)
query_values = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)


def deeply_nested(depth: int) -> str:
    return '{"message": "deep", "fields": {"a": ' + "[" * depth + "]" * depth + "}}"


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["json", "ndjson", "form", "multipart", "text", "raw", "deep", "bigint"]))
    if kind == "json":
        document = draw(entry_like | st.lists(entry_like, max_size=4) | json_values)
        return "application/json", json.dumps(document).encode()
    if kind == "ndjson":
        lines = draw(st.lists(entry_like | json_values, max_size=4))
        return "application/x-ndjson", "\n".join(json.dumps(line) for line in lines).encode()
    if kind == "form":
        fields = draw(st.dictionaries(st.sampled_from(["message", "level", "program", "timestamp", "fields", "y"]),
                                      query_values, max_size=5))
        return "application/x-www-form-urlencoded", httpx.QueryParams(fields).__str__().encode()
    if kind == "multipart":
        fields = draw(st.dictionaries(st.sampled_from(["message", "level", "timestamp", "fields"]),
                                      st.text(string.printable, max_size=30), max_size=4))
        boundary = "fuzzboundary"
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                 for name, value in fields.items()]
        body = "".join(parts) + (f"--{boundary}--\r\n" if draw(st.booleans()) else "")
        return f"multipart/form-data; boundary={boundary}", body.encode()
    if kind == "deep":
        return "application/json", deeply_nested(draw(st.integers(min_value=20, max_value=1100))).encode()
    if kind == "bigint":
        number = draw(st.integers(min_value=2**63, max_value=2**80)) * draw(st.sampled_from([1, -1]))
        return "application/json", json.dumps({"message": "big", "fields": {"n": number}}).encode()
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    return content_type, draw(st.binary(max_size=300))


@FUZZ
@given(body=bodies(), query=st.dictionaries(st.sampled_from(["level", "program", "x"]), query_values, max_size=2))
def test_any_post_body_gets_2xx_or_a_clear_4xx(http: httpx.Client, body: tuple[str, bytes],
                                               query: dict[str, str]) -> None:
    content_type, content = body
    headers = {"content-type": content_type} if content_type else {}
    stream = new_stream()
    response = http.post(f"/live/{stream}", content=content, headers=headers, params=query)
    assert_answered_well(response)
    readable = http.get(f"/live/{stream}/entries", params={"limit": 1000})
    assert readable.status_code == 200, readable.text[:300]  # what was taken can be read
    stored = len(readable.json()["entries"])
    assert stored >= 1 if response.status_code == 204 else stored == 0  # a body is taken whole or not at all


def _encoded(coding: str, content: bytes, apply: bool) -> bytes:
    if not apply:
        return content
    for name in (part.strip() for part in coding.split(",")):
        content = gzip.compress(content) if "gzip" in name else zlib.compress(content) if name == "deflate" else content
    return content


@FUZZ
@given(body=bodies(), coding=st.sampled_from(CODINGS), apply=st.booleans())
def test_any_compressed_body_gets_2xx_or_a_clear_4xx(http: httpx.Client, body: tuple[str, bytes], coding: str,
                                                     apply: bool) -> None:
    content_type, content = body
    stream = new_stream()
    headers = {"content-encoding": coding, **({"content-type": content_type} if content_type else {})}
    response = http.post(f"/live/{stream}", content=_encoded(coding, content, apply), headers=headers)
    assert_answered_well(response)
    stored = len(http.get(f"/live/{stream}/entries", params={"limit": 1000}).json()["entries"])
    assert stored >= 1 if response.status_code == 204 else stored == 0


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["limit", "after", "history", "before", "level"]),
                             query_values, max_size=3))
def test_any_entries_query_gets_2xx_or_a_clear_4xx(http: httpx.Client, query: dict[str, str]) -> None:
    stream = new_stream()
    http.post(f"/live/{stream}", json=[{"message": f"line {n}"} for n in range(3)])
    response = http.get(f"/live/{stream}/entries", params=query)
    assert_answered_well(response)
    if response.status_code == 200:
        assert isinstance(response.json()["entries"], list)


filter_values = query_values | st.sampled_from([
    "(a|aa)+$", "(a+)+b", "(?P<x>a)(?P=x)", "(?<=a)b", "[", "a{1000}{1000}", "\\", "15m", "0s", "999999999d",
    "2026-11-25T10:00:00Z", "2026-02-30", "warn", "trace", "99", "1", "0", "on", "1795576219554-1", "0-0", "",
])
FILTER_PARAMETERS = ["limit", "after", "before", "q", "re", "not", "level", "program", "since", "until"]


@FUZZ
@given(query=st.lists(st.tuples(st.sampled_from(FILTER_PARAMETERS), filter_values), max_size=5),
       long_lines=st.booleans())
def test_any_filtered_or_backward_entries_query_gets_2xx_or_a_422_naming_a_parameter(
        http: httpx.Client, query: list[tuple[str, str]], long_lines: bool) -> None:
    stream = new_stream()
    line = "a" * 20_000 if long_lines else "line"
    http.post(f"/live/{stream}", json=[{"message": f"{line} {n}", "level": "warn"} for n in range(3)])
    response = http.get(f"/live/{stream}/entries", params=query)
    assert_answered_well(response)
    if response.status_code == 200:
        page = response.json()
        assert isinstance(page["entries"], list) and page["kept"] == 3 and page["scanned"] <= 3
    else:
        assert response.status_code == 422, response.text[:300]
        named = response.json()["detail"].split()[0].rstrip(":")
        assert named in {name for name, _ in query}, response.text[:300]


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["history", "after", "x"]), query_values, max_size=2),
       last_event_id=st.none() | st.text(string.printable.strip(), max_size=30),
       accept=st.sampled_from([None, "text/event-stream", "*/*", "application/json", "text/html", "text/*;q=0"]))
def test_any_event_stream_request_gets_events_or_a_clear_4xx(http: httpx.Client, query: dict[str, str],
                                                            last_event_id: str | None, accept: str | None) -> None:
    stream = new_stream()
    http.post(f"/live/{stream}", data={"message": "before"})
    headers = {key: value for key, value in (("last-event-id", last_event_id), ("accept", accept)) if value}
    with http.stream("GET", f"/live/{stream}", params=query, headers=headers) as response:
        if response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream"):
            first = next(response.iter_raw())  # history, or the stream's opening comment
            assert first
            return
        response.read()
    assert_answered_well(response)


@FUZZ
@given(method=st.sampled_from(METHODS),
       path=st.text(st.characters(codec="utf-8", exclude_characters="?#"), max_size=60),
       under_live=st.booleans())
def test_any_method_and_path_gets_an_answer_not_a_5xx(http: httpx.Client, method: str, path: str,
                                                      under_live: bool) -> None:
    url = ("/live/" if under_live else "/") + urllib.parse.quote(path, safe="/")
    response = http.request(method, url, headers={"accept": "application/json"})
    assert response.status_code < 500, (method, path, response.status_code, response.text[:200])
    if under_live and response.status_code >= 400 and method != "HEAD":
        assert isinstance(response.json()["detail"], str)


page_addresses = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="?#"), max_size=60),
    st.uuids().map(lambda key: str(key).upper()),  # a redirect to the lower-case address
    st.lists(st.uuids().map(str), min_size=2, max_size=40).map("+".join),  # merged views, too many streams
    st.lists(st.text(string.ascii_letters, max_size=8), min_size=2, max_size=60).map("+".join))


@FUZZ
@given(address=page_addresses)
def test_a_page_address_answered_without_a_page_holds_no_page_session(http: httpx.Client, address: str) -> None:
    """A 404, 400 or redirect in place of a page leaves nothing held (NiceGUI kept each for a minute)."""
    before = http.get("/healthz").json()["pages"]
    response = http.get("/" + urllib.parse.quote(address, safe="/+"))
    assert response.status_code < 500, (address, response.status_code)
    if response.status_code != 200:  # pages drawn are held until their socket comes, or for 15 s
        assert http.get("/healthz").json()["pages"] <= before, (address, response.status_code)


@FUZZ
@given(headers=st.dictionaries(st.sampled_from(["content-type", "content-encoding", "transfer-encoding-x",
                                                "last-event-id", "accept", "x-forwarded-for", "origin"]),
                               st.text(string.digits + string.ascii_letters + string.punctuation + " \t", max_size=40)
                               .map(str.strip),  # the client itself refuses surrounding blanks
                               max_size=4))
def test_any_headers_on_a_post_get_2xx_or_a_clear_4xx(http: httpx.Client, headers: dict[str, str]) -> None:
    response = http.post(f"/live/{new_stream()}", content=b'{"message": "with odd headers"}',
                         headers={"content-type": "application/json", **headers})
    assert_answered_well(response)


# --- what is accepted reads back as documented ------------------------------------------------------

level_cases = st.sampled_from([
    (None, "INFO"), ("", "INFO"), ("warn", "WARNING"), ("WARNING", "WARNING"), ("Error", "ERROR"),
    (30, "WARNING"), (25, "INFO"), (0, "DEBUG"), (50, "CRITICAL"), ("40", "ERROR"), (30.0, "WARNING"),
    ("fatal", "CRITICAL"), ("trace", "TRACE"), ("notice", "NOTICE"),
]) | st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,19}", fullmatch=True).map(
    lambda name: (name, ALIASES.get(name.lower(), name.upper())))
clean_text = st.characters(codec="utf-8", exclude_categories=["Cs"])
fields_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) |
    st.floats(allow_nan=False, allow_infinity=False) | st.text(clean_text, max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(clean_text, max_size=8), inner, max_size=3),
    max_leaves=10)
moments = st.floats(min_value=0, max_value=LATEST, allow_nan=False)


@st.composite
def timestamp_cases(draw: st.DrawFn) -> tuple[Any, float | None]:
    """A timestamp as a client may send it, and the seconds it means (None: the time of receipt)."""
    seconds = draw(moments)
    form = draw(st.sampled_from(["none", "seconds", "milliseconds", "text", "iso"]))
    if form == "none":
        return None, None
    if form == "seconds":
        return seconds, seconds if seconds <= 1e11 else seconds / 1000
    if form == "milliseconds":
        milliseconds = draw(st.integers(min_value=int(1e11) + 1, max_value=int(LATEST * 1000)))
        return milliseconds, milliseconds / 1000
    if form == "text":
        whole = int(min(seconds, 1e11))
        return str(whole), float(whole)
    offset = dt.timedelta(minutes=draw(st.integers(min_value=-14 * 60, max_value=14 * 60)))
    moment = dt.datetime.fromtimestamp(min(max(seconds, 86400), LATEST - 86400), dt.UTC)
    return moment.astimezone(dt.timezone(offset)).isoformat(), moment.timestamp()


@st.composite
def entry_cases(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An entry as sent, and what reading it back must give."""
    level, expected_level = draw(level_cases)
    timestamp, expected_ts = draw(timestamp_cases())
    message = draw(st.text(clean_text, min_size=1, max_size=60))
    program = draw(st.none() | st.text(clean_text, min_size=1, max_size=100))
    fields = draw(st.none() | st.dictionaries(st.text(clean_text, max_size=8), fields_values, max_size=3))
    sent: dict[str, Any] = {"message": message}
    for key, value in (("level", level), ("program", program), ("timestamp", timestamp), ("fields", fields)):
        if value is not None:
            sent[key] = value
    expected = {"message": message, "level": expected_level, "program": program or "api",
                "fields": fields or None, "ts": expected_ts}
    return sent, expected


@FUZZ
@given(cases=st.lists(entry_cases(), min_size=1, max_size=5))
def test_accepted_entries_read_back_as_documented(http: httpx.Client, cases: list[tuple[dict, dict]]) -> None:
    stream = new_stream()
    response = http.post(f"/live/{stream}", json=[sent for sent, _ in cases])
    assert response.status_code == 204, response.text
    got = http.get(f"/live/{stream}/entries", params={"limit": len(cases)}).json()["entries"]
    assert len(got) == len(cases)
    for entry, (sent, expected) in zip(got, cases, strict=True):
        assert entry["message"] == expected["message"], sent
        assert entry["level"] == expected["level"], sent
        assert entry["program"] == expected["program"], sent
        assert entry.get("fields") == expected["fields"], sent
        if expected["ts"] is not None:
            assert abs(entry["ts"] - expected["ts"]) < 1e-3, sent

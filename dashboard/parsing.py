"""Turn an ingest request body into validated log entries, whatever its content type."""

from __future__ import annotations

import codecs
import datetime as dt
import encodings
import encodings.aliases
import functools
import json
import pkgutil
import re
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote_plus, urlencode

import orjson
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from .entry import InvalidEntry, LogEntry, is_finite_number, json_text, normalize_level
from .protocol import (
    DEFAULT_LEVEL,
    DEFAULT_PROGRAM,
    EARLIEST_TIMESTAMP,
    JSON_INTEGER_RANGE,
    LATEST_TIMESTAMP,
    MAX_BATCH_ENTRIES,
    MAX_BODY_BYTES,
    MAX_FIELDS_DEPTH,
    MAX_MESSAGE_BYTES,
    MAX_PROGRAM_CHARS,
)

_ENTRY_KEYS = frozenset({"message", "level", "program", "timestamp", "fields"})
# A number as ASCII text (float() also takes "1_000" and other scripts' digits).
_DECIMAL_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# orjson reads an integer beyond 64 bits as a float, silently; such a run of digits sends the body
# to the exact (slower) check.
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{19}")
# Epoch numbers above this are taken as milliseconds: as seconds they would be past the year 5000.
_MILLISECONDS_FROM = 1e11


class IngestError(Exception):
    """A request the ingest endpoint refuses, with the HTTP status and the reason."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class EntryDefaults(NamedTuple):
    """What an entry gets for the fields it leaves out."""

    level: str
    program: str
    received_at: float


Parser = Callable[[bytes, EntryDefaults], list[LogEntry]]
_MULTIPART = "multipart/form-data"
_CACHED_CONTENT_TYPE_CHARS = 200


async def parse_body(content_type: str, body: bytes, query: Mapping[str, str], received_at: float) -> list[LogEntry]:
    """Parse and validate a whole body sent as `content_type` (the header's value, "" without one).

    Raise `IngestError` (413, 415 or 422) if any of it is wrong.
    """
    return await parse_utf8_body(*utf8_body(content_type, body), query, received_at)


# Windows tools (PowerShell's `Out-File -Encoding utf8`, Notepad) start UTF-8 with a byte order mark, which
# JSON parsers may ignore (RFC 8259, 8.1): one at the start of a body that is not multipart is.
_UTF8_BOM = b"\xef\xbb\xbf"


async def parse_utf8_body(content_type: str, body: bytes, query: Mapping[str, str],
                          received_at: float) -> list[LogEntry]:
    """`parse_body` for a body and content type as `utf8_body` gives them (a body in UTF-8, or multipart)."""
    media_type, charset = _content_type(content_type)
    parser = _PARSERS.get(media_type)
    if parser is None and media_type != _MULTIPART:
        what = f"unsupported content type {media_type!r}" if media_type else \
            f"the Content-Type {content_type[:60]!r} names no media type" if content_type.strip() else "no Content-Type"
        raise IngestError(415, f"{what}; send one of: {', '.join(SUPPORTED_TYPES)}")
    defaults = _defaults_from_query(query, received_at)
    if parser is not None:
        entries = parser(body.removeprefix(_UTF8_BOM), defaults)
    else:
        entries = await _parse_multipart(body, defaults, _multipart_content_type(content_type, charset))
    if not entries:
        raise IngestError(422, "the body holds no log entry")
    return entries


def _content_type(content_type: str) -> tuple[str, str | None]:
    """`text/plain; charset=latin-1` → (`text/plain`, `latin-1`); the charset is None when it is UTF-8 or not given.

    Raise `IngestError(415)` for a charset Python knows no text encoding of.
    """
    # Clients send the same few values on every request; a long one (headers have no size limit)
    # is not kept, so that a few requests cannot hold megabytes in the cache.
    if len(content_type) <= _CACHED_CONTENT_TYPE_CHARS:
        return _cached_content_type(content_type)
    return _content_type_of(content_type)


def _content_type_of(content_type: str) -> tuple[str, str | None]:
    media_type, _, parameters = content_type.partition(";")
    charsets = [value for name, _, value in (parameter.partition("=") for parameter in parameters.split(";"))
                if name.strip().lower() == "charset"]
    if len(charsets) > 1:  # parsers differ in which one they take
        raise IngestError(415, "the content type names its charset more than once")
    return media_type.strip().lower(), _text_encoding(charsets[0].strip().strip('"').strip()) if charsets else None


def _text_encoding(charset: str) -> str | None:
    """The charset as a codec name, None for UTF-8 (or ASCII, which UTF-8 reads alike)."""
    if charset.lower() in _UTF8_CHARSETS:
        return None
    # Only names of the codecs Python ships are looked up: the codec registry remembers every name it
    # failed to find, so made-up names would each hold memory for good.
    name = encodings.normalize_encoding(charset.lower())
    try:
        if name not in _SHIPPED_CODECS or name in _NOT_CHARSETS:
            raise LookupError(name)
        bytes(4).decode(name, errors="replace")  # a LookupError too for one that is not a text encoding (base64)
    except (LookupError, UnicodeError):
        raise IngestError(415, f"unsupported charset {charset[:64]!r}; send UTF-8, or name a text encoding") from None
    return name


_cached_content_type = functools.lru_cache(maxsize=64)(_content_type_of)
_UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_SHIPPED_CODECS = frozenset({*encodings.aliases.aliases, *encodings.aliases.aliases.values(),
                             *(module.name for module in pkgutil.iter_modules(encodings.__path__))})
# Python's own text codecs that no client names as a charset; punycode's decoder also takes time that
# grows with the square of the body (a 1 MiB body held the server 30 s).
_NOT_CHARSETS = frozenset({"punycode", "idna", "unicode_escape", "raw_unicode_escape", "undefined"})
_FORM = "application/x-www-form-urlencoded"
_ASCII = bytes(range(128))


def utf8_body(content_type: str, body: bytes) -> tuple[str, bytes]:
    """A body sent in a charset other than UTF-8, as UTF-8 with its content type less the charset; else as it came.

    Multipart bodies are left as they are (the parser decodes their fields). Raise `IngestError`: 415 for a
    charset that is not a text encoding Python has (or, for a form, one that does not read ASCII as
    ASCII), 422 for JSON bytes that are not of the charset, 413 for a body larger than the limit in UTF-8.
    """
    media_type, charset = _content_type(content_type)
    if charset is None or media_type not in _PARSERS:
        return content_type, body
    if media_type == _FORM:  # its %-escapes are bytes of the charset too
        if not _reads_ascii_as_ascii(charset):
            raise IngestError(415, f"a form's charset must read ASCII as ASCII, as its separators and %-escapes "
                                   f"are; {charset!r} does not")
        utf8 = urlencode(form_fields(body, charset)).encode()
    else:
        utf8 = _as_utf8(body, charset, strict=media_type != "text/plain")
    if len(utf8) > MAX_BODY_BYTES:
        raise IngestError(413, f"the body is larger than {MAX_BODY_BYTES // 1024} KiB once read as UTF-8; "
                               "send fewer entries per request")
    return media_type, utf8


@functools.cache  # one entry per codec at most: names are checked against the shipped ones first
def _reads_ascii_as_ascii(charset: str) -> bool:
    return _ASCII.decode(charset, errors="replace") == _ASCII.decode("ascii")


def _multipart_content_type(content_type: str, charset: str | None) -> str:
    """The content type with its charset, if any, named as the checked codec name, for Starlette's parser.

    The parser looks the name up as it was sent: every spelling (`latin--1`, `latin---1`, ...) would stay
    in the codec registry's memory.
    """
    kept = [parameter for parameter in content_type.split(";")[1:]
            if parameter.partition("=")[0].strip().lower() != "charset"]
    return ";".join([_MULTIPART, *kept, *([f" charset={charset}"] if charset else [])])


def _as_utf8(body: bytes, charset: str, *, strict: bool) -> bytes:
    """The body, sent in `charset`, as UTF-8; strict: `IngestError(422)` for bytes that are not of the charset."""
    try:
        text = body.decode(_byte_order(charset, body), errors="strict" if strict else "replace")
        return text.encode(errors="replace")
    except UnicodeError:
        raise IngestError(422, f"the body is not valid {charset[:64]} text") from None


def _byte_order(charset: str, body: bytes) -> str:
    """UTF-16 and UTF-32 without a byte order mark are big-endian (RFC 2781); Python would read this machine's order."""
    codec = codecs.lookup(charset).name
    if codec == "utf-16" and body[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16-be"
    if codec == "utf-32" and body[:4] not in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        return "utf-32-be"
    return charset


def build_entry(data: Mapping[str, Any], defaults: EntryDefaults) -> LogEntry:
    """Validate one entry's fields; keys other than the known ones are kept in `fields`."""
    message = data.get("message")
    if message is None or message == "":
        raise InvalidEntry("message is required")
    if not isinstance(message, str):
        raise InvalidEntry("message must be a string")
    if len(message) > MAX_MESSAGE_BYTES // 4 and len(message.encode()) > MAX_MESSAGE_BYTES:
        raise InvalidEntry(f"message is longer than {MAX_MESSAGE_BYTES // 1024} KiB")
    level = data.get("level")
    program = data.get("program")
    return LogEntry(
        message=message,
        timestamp=parse_timestamp(data.get("timestamp"), defaults.received_at),
        level=defaults.level if level is None or level == "" else normalize_level(level),
        program=defaults.program if program is None or program == "" else _check_program(program),
        fields_json=_collect_fields(data),
    )


def parse_timestamp(value: object, received_at: float) -> float:
    """Epoch seconds from an ISO 8601 string or an epoch number (seconds or milliseconds)."""
    if value is None or value == "":
        return received_at
    if isinstance(value, str) and not _DECIMAL_NUMBER.fullmatch(text := value.strip()):
        seconds = _parse_iso_timestamp(text)
    elif isinstance(value, str) or is_finite_number(value):
        seconds = float(value)  # type: ignore[arg-type]  # a decimal number, as text or checked
        if seconds > _MILLISECONDS_FROM:
            seconds /= 1000
    else:
        raise InvalidEntry("timestamp must be an ISO 8601 string or a number of seconds since the epoch")
    if not EARLIEST_TIMESTAMP <= seconds <= LATEST_TIMESTAMP:  # also refuses inf, from "1e999"
        raise InvalidEntry(f"timestamp {str(value)[:60]!r} is out of range: it must fall between 1970-01-01 "
                           "and 9999-01-01 (UTC)")
    return seconds


def _parse_iso_timestamp(text: str) -> float:
    try:
        if not text.isascii():
            raise ValueError
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEntry(f"timestamp {text[:60]!r} is not ISO 8601 (e.g. 2026-11-25T10:00:00.123Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # documented: a timestamp without offset is UTC
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):  # year 1 with a positive offset, year 9999 with a negative one
        return -1.0  # out of range: refused by the caller


def _check_program(program: object) -> str:
    if not isinstance(program, str):
        raise InvalidEntry("program must be a string")
    if len(program) > MAX_PROGRAM_CHARS:
        raise InvalidEntry(f"program is longer than {MAX_PROGRAM_CHARS} characters")
    return program


def _collect_fields(data: Mapping[str, Any]) -> bytes | None:
    fields = data.get("fields")
    if fields is None and data.keys() <= _ENTRY_KEYS:  # most entries: only the known keys
        return None
    if isinstance(fields, str):  # form posts can only carry it as JSON text
        try:
            fields = load_json(fields.encode(errors="replace"))
        except InvalidJson:
            raise InvalidEntry("fields must be a JSON object") from None
    if fields is not None and not isinstance(fields, dict):
        raise InvalidEntry("fields must be a JSON object")
    extra = {key: value for key, value in data.items() if key not in _ENTRY_KEYS}
    if fields and extra and (both := next((key for key in extra if key in fields), None)) is not None:
        raise InvalidEntry(f"{both[:40]!r} is both a key of the entry and of its fields: send it once")
    merged = {**extra, **(fields or {})}
    if not merged:
        return None
    try:
        text = json_text(merged)
    except orjson.JSONEncodeError as error:  # past 254 levels deep (an integer past 64 bits is refused before)
        if not _walk_deeper_than(merged, MAX_FIELDS_DEPTH):
            raise InvalidEntry(f"fields cannot be written as JSON: {error}") from None
        text = None
    if text is None or json_nests_deeper_than(text, MAX_FIELDS_DEPTH):
        raise InvalidEntry(f"fields nest more than {MAX_FIELDS_DEPTH} objects or arrays deep")
    return text


# Every byte but JSON's brackets, to delete from a document's text outside its strings; objects'
# braces read as arrays' brackets (in JSON they nest properly), so that a pass takes one level.
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_BRACES_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")


def nests_deeper_than(value: object, depth: int) -> bool:
    """Whether `value` (parsed JSON) holds objects or arrays more than `depth` deep, itself counting as one.

    Worked out on its JSON text, at C speed: a walk in Python took 70 ms for a 1 MiB body of 350,000
    empty objects, which anyone may send many times a second. Outside the strings (escaped backslashes
    and quotes taken out first, then every other piece between quotes), only the brackets are kept;
    each pass takes out the innermost pairs, so a text that is not empty after `depth` passes is deeper.
    """
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError:  # past 254 levels, or an integer past 64 bits (refused before this)
        return _walk_deeper_than(value, depth)
    return json_nests_deeper_than(text, depth)


def json_nests_deeper_than(text: bytes, depth: int) -> bool:
    """`nests_deeper_than` for a value's JSON text as `orjson.dumps` writes it."""
    text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(text.split(b'"')[::2]).translate(_BRACES_AS_BRACKETS, _NOT_BRACKETS)
    for _ in range(depth):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _walk_deeper_than(value: object, depth: int) -> bool:
    """`nests_deeper_than`, by a walk that goes no deeper than `depth`."""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    return depth == 0 or any(_walk_deeper_than(child, depth - 1) for child in children)


class InvalidJson(InvalidEntry):
    """Text that is not JSON at all."""


def load_json(raw: bytes) -> Any:
    """Parse JSON: `InvalidJson` if it is not JSON, `InvalidEntry` for an integer beyond 64 bits
    (which orjson would silently turn into a float)."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if "infinity" in str(error) and _LONG_DIGIT_RUN.search(raw):  # an integer of hundreds of digits
            raise InvalidEntry("an integer does not fit in 64 bits; send it as a string") from None
        raise InvalidJson(str(error)) from None
    if _LONG_DIGIT_RUN.search(raw):
        low, high = JSON_INTEGER_RANGE

        def exact_integer(text: str) -> int:
            number = int(text)
            if not low <= number <= high:
                raise InvalidEntry(f"the integer {text[:24]}... does not fit in 64 bits; send it as a string")
            return number

        try:
            json.loads(raw, parse_int=exact_integer)
        except RecursionError:
            raise InvalidEntry(f"fields nest more than {MAX_FIELDS_DEPTH} objects or arrays deep") from None
    return document


def _defaults_from_query(query: Mapping[str, str], received_at: float) -> EntryDefaults:
    if not query:  # most requests: nothing to check
        return EntryDefaults(level=DEFAULT_LEVEL, program=DEFAULT_PROGRAM, received_at=received_at)
    try:
        level = normalize_level(query.get("level"))
        program = _check_program(query.get("program") or DEFAULT_PROGRAM)
    except InvalidEntry as error:
        raise IngestError(422, f"query parameter: {error}") from None
    return EntryDefaults(level=level, program=program, received_at=received_at)


def _entries_from_objects(objects: list[Any], defaults: EntryDefaults) -> list[LogEntry]:
    _check_batch_size(len(objects))
    entries = []
    for position, item in enumerate(objects, start=1):
        prefix = f"entry {position}: " if len(objects) > 1 else ""
        if not isinstance(item, dict):
            raise IngestError(422, f"{prefix}each entry must be a JSON object")
        try:
            entries.append(build_entry(item, defaults))
        except InvalidEntry as error:
            raise IngestError(422, f"{prefix}{error}") from None
    return entries


def _parse_json(body: bytes, defaults: EntryDefaults) -> list[LogEntry]:
    document = _load_json(body, "body")
    objects = document if isinstance(document, list) else [document]
    return _entries_from_objects(objects, defaults)


def _parse_ndjson(body: bytes, defaults: EntryDefaults) -> list[LogEntry]:
    # Lines end at "\n" (a "\r" before it is JSON whitespace): a lone "\r" is whitespace inside a line.
    lines = [line for line in body.split(b"\n") if line.strip()]
    _check_batch_size(len(lines))
    objects = [_load_json(line, f"line {number}") for number, line in enumerate(lines, start=1)]
    return _entries_from_objects(objects, defaults)


def _parse_text(body: bytes, defaults: EntryDefaults) -> list[LogEntry]:
    text = body.decode("utf-8", errors="replace")  # piped logs may hold stray bytes; keep the line
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    _check_batch_size(len(lines))
    return _entries_from_objects([{"message": line} for line in lines], defaults)


def _parse_urlencoded(body: bytes, defaults: EntryDefaults) -> list[LogEntry]:
    return _entries_from_form(form_fields(body), defaults)


def form_fields(body: bytes, charset: str = "utf-8") -> dict[str, str]:
    """The fields of a form body, as `dict(parse_qsl(..., keep_blank_values=True))` gives them.

    A key given twice keeps its last value; undecodable bytes become U+FFFD. Written out because
    parse_qsl unescapes every key and value and checks each pair, a large share of a single-entry
    POST; here only text holding `%` or `+` is unescaped.
    """
    # curl -d sends UTF-8 unescaped, so the body is UTF-8 text before the %-escapes are decoded.
    fields: dict[str, str] = {}
    for pair in body.decode(charset, errors="replace").split("&"):
        if pair:
            key, _, value = pair.partition("=")
            # Most keys and values hold neither; the checks cost less than the calls.
            if "%" in key or "+" in key:
                key = _unescape(key, charset)
            fields[key] = _unescape(value, charset) if "%" in value or "+" in value else value
    return fields


def _unescape(text: str, charset: str) -> str:
    if "%" not in text:
        return text.replace("+", " ") if "+" in text else text
    pieces = text.replace("+", " ").split("%")
    decoded = [pieces[0]]
    for piece in pieces[1:]:
        character = _ASCII_ESCAPES.get(piece[:2])
        if character is None:  # an escape of a non-ASCII byte, or a stray %: urllib's full decoding
            return unquote_plus(text, encoding=charset, errors="replace")
        decoded += (character, piece[2:])
    return "".join(decoded)


# %XX escapes of ASCII characters, which decode on their own; bytes of a UTF-8 sequence do not.
_ASCII_ESCAPES = {f"{code:02{case}}": chr(code) for code in range(128) for case in "xX"}


async def _parse_multipart(body: bytes, defaults: EntryDefaults, content_type: str) -> list[LogEntry]:
    async def single_chunk() -> AsyncGenerator[bytes, None]:
        yield body

    # The parser reads only the content type (boundary, charset) of the headers.
    parser = _TextFieldsParser(Headers({"content-type": content_type}), single_chunk(), max_files=10, max_fields=100,
                             max_part_size=MAX_BODY_BYTES)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise IngestError(422, f"malformed multipart body: {error.message}") from None
    try:
        if any(isinstance(value, UploadFile) for _, value in form.multi_items()):
            raise IngestError(422, "file uploads are not accepted; send message as a text field")
        return _entries_from_form({key: value for key, value in form.multi_items()}, defaults)
    finally:
        await form.close()


class _TextFieldsParser(MultiPartParser):
    """Starlette's multipart parser, each field read as text as other bodies are: in the charset its part's
    Content-Type names, else the body's (UTF-8 by default), each byte outside it as U+FFFD.

    Starlette reads the whole of a field that does not decode in the body's charset as Latin-1 instead: one
    stray byte turned a valid `€` beside it into `â\x82¬`, and a part's own charset (UTF-16) was not read at all.
    """

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is not None:
            super().on_part_end()
            return
        charset = _part_charset(part.item_headers) or self._charset or "utf-8"
        data = bytes(part.data)
        self.items.append((part.field_name, data.decode(_byte_order(charset, data), errors="replace")))


def _part_charset(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The codec of the charset a part's Content-Type names, if it names one; `IngestError(415)` as for a body's."""
    for name, value in headers:
        if name == b"content-type":
            content_type = value.decode("latin-1")
            _, charset = _content_type(content_type)
            names_one = any(parameter.partition("=")[0].strip().lower() == "charset"
                            for parameter in content_type.split(";")[1:])
            if charset is None and names_one:
                return "utf-8"  # _content_type says None for UTF-8, and the body's charset may be another
            return charset
    return None


def _entries_from_form(fields: dict[str, Any], defaults: EntryDefaults) -> list[LogEntry]:
    try:
        return [build_entry(fields, defaults)]
    except InvalidEntry as error:
        raise IngestError(422, str(error)) from None


def _check_batch_size(count: int) -> None:
    if count > MAX_BATCH_ENTRIES:
        raise IngestError(422, f"a batch holds at most {MAX_BATCH_ENTRIES} entries, this one has {count}")


def _load_json(raw: bytes, where: str) -> Any:
    try:
        return load_json(raw)
    except InvalidJson as error:
        raise IngestError(422, f"{where} is not valid JSON: {error}") from None
    except InvalidEntry as error:
        raise IngestError(422, f"{where}: {error}") from None


# Multipart bodies are parsed apart: Starlette's parser is asynchronous.
_PARSERS: dict[str, Parser] = {
    "application/x-www-form-urlencoded": _parse_urlencoded,
    "application/json": _parse_json,
    "application/x-ndjson": _parse_ndjson,
    "application/ndjson": _parse_ndjson,
    "application/jsonl": _parse_ndjson,
    "text/plain": _parse_text,
}
SUPPORTED_TYPES = (*_PARSERS, _MULTIPART)

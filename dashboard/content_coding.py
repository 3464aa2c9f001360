"""Bodies sent compressed (`Content-Encoding: gzip` or `deflate`), inflated within the body limit."""

from __future__ import annotations

import zlib

from .parsing import IngestError

SUPPORTED_CODINGS = ("gzip", "deflate")
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS
# A gzip body may be several members one after another; each one's rest is copied, so they are bounded.
MAX_GZIP_MEMBERS = 16
# Codings one body may have, one over another (a client compresses once).
MAX_CODINGS = 4


def decoded_body(content_encoding: str, body: bytes, limit: int) -> bytes:
    """The body with its content codings undone, last applied first.

    Raise `IngestError`: 415 for a coding other than gzip, deflate or identity, 413 when the body
    would grow past `limit` bytes, 400 when it is not what its coding says.
    """
    codings = [coding.strip().lower() for coding in content_encoding.split(",")]
    if len(codings) > MAX_CODINGS:  # each layer costs CPU
        raise IngestError(400, f"the body is compressed {len(codings):,} times over; at most {MAX_CODINGS} codings")
    for coding in reversed(codings):
        if coding in ("", "identity"):
            continue
        if coding in ("gzip", "x-gzip"):
            body = _gunzip(body, limit)
        elif coding == "deflate":
            body = _inflate_deflate(body, limit)
        else:
            raise IngestError(415, f"unsupported content encoding {coding[:64]!r}; send the body as it is, "
                                   f"or with one of: {', '.join(SUPPORTED_CODINGS)}")
    return body


def _gunzip(body: bytes, limit: int) -> bytes:
    """All the gzip members the body holds, one after another (a gzip file may be several)."""
    pieces: list[bytes] = []
    size = 0
    rest = body
    while len(pieces) < MAX_GZIP_MEMBERS:
        piece, rest = _inflate(rest, _GZIP_WBITS, limit - size, "gzip")
        pieces.append(piece)
        size += len(piece)
        if not rest.strip(b"\0"):  # some writers pad the last member with zeros
            return b"".join(pieces)
    raise IngestError(400, f"the body holds more than {MAX_GZIP_MEMBERS} gzip members; send it as one")


def _inflate_deflate(body: bytes, limit: int) -> bytes:
    """HTTP's deflate is zlib-wrapped; some clients send raw deflate under that name, which is taken too."""
    try:
        piece, rest = _inflate(body, _ZLIB_WBITS, limit, "deflate")
    except IngestError as error:
        if error.status_code != 400:
            raise
        piece, rest = _inflate(body, _RAW_DEFLATE_WBITS, limit, "deflate")
    if rest:
        raise IngestError(400, "the body holds more after its deflate data ends")
    return piece


def _inflate(data: bytes, wbits: int, limit: int, coding: str) -> tuple[bytes, bytes]:
    """One compressed stream at the start of `data`, inflated, and what follows it."""
    inflater = zlib.decompressobj(wbits)
    try:
        inflated = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise IngestError(400, f"the body is not valid {coding} data: {error}") from None
    if len(inflated) > limit or inflater.unconsumed_tail:
        raise IngestError(413, f"the body is larger than {limit // 1024} KiB once decompressed; "
                               "send fewer entries per request")
    if not inflater.eof:
        raise IngestError(400, f"the body ends before its {coding} data does")
    return inflated, inflater.unused_data

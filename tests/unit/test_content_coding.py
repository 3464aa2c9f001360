"""Compressed bodies: gzip (one member or several) and deflate (zlib-wrapped or raw) inflated within the
body limit; anything else a clear 4xx."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.content_coding import MAX_GZIP_MEMBERS, decoded_body
from dashboard.parsing import IngestError

LIMIT = 64 * 1024


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def refused(coding: str, body: bytes) -> IngestError:
    with pytest.raises(IngestError) as caught:
        decoded_body(coding, body, LIMIT)
    return caught.value


@settings(max_examples=80)
@given(st.binary(max_size=LIMIT), st.sampled_from(["gzip", "x-gzip", "GZip", "deflate", "zlib-as-deflate"]))
def test_any_body_comes_back_as_it_was_sent(body: bytes, coding: str) -> None:
    if coding == "deflate":
        sent, named = raw_deflate(body), "deflate"
    elif coding == "zlib-as-deflate":
        sent, named = zlib.compress(body), "deflate"
    else:
        sent, named = gzip.compress(body), coding
    assert decoded_body(named, sent, LIMIT) == body


def test_codings_are_undone_last_first_and_identity_is_nothing() -> None:
    assert decoded_body("deflate, gzip", gzip.compress(zlib.compress(b"two")), LIMIT) == b"two"
    assert decoded_body("identity", b"as is", LIMIT) == b"as is"
    # A gzip file may hold several members, and writers may pad it with zeros.
    assert decoded_body("gzip", gzip.compress(b"a") + gzip.compress(b"b") + b"\0" * 8, LIMIT) == b"ab"


def test_a_body_that_grows_past_the_limit_is_a_413_however_it_is_split() -> None:
    assert refused("gzip", gzip.compress(b"x" * (LIMIT + 1))).status_code == 413
    assert decoded_body("gzip", gzip.compress(b"x" * LIMIT), LIMIT) == b"x" * LIMIT
    half = gzip.compress(b"x" * (LIMIT // 2 + 1))
    assert refused("gzip", half + half).status_code == 413
    bomb = gzip.compress(bytes(256 * 1024 * 1024))  # 256 MiB of zeros in 255 KB: never inflated whole
    assert refused("gzip", bomb).status_code == 413


@pytest.mark.parametrize(("coding", "body", "status", "detail"), [
    ("br", b"x", 415, "unsupported content encoding 'br'"),
    ("gzip, compress", gzip.compress(b"x"), 415, "unsupported content encoding 'compress'"),
    ("gzip", b"not gzip", 400, "the body is not valid gzip data"),
    ("gzip", gzip.compress(b"cut short")[:-4], 400, "the body ends before its gzip data does"),
    ("gzip", b"", 400, "the body ends before its gzip data does"),
    ("gzip", gzip.compress(b"x") + b"trailing", 400, "the body is not valid gzip data"),
    ("deflate", zlib.compress(b"x") + b"more", 400, "the body holds more after its deflate data ends"),
    ("deflate", b"\xff\xff", 400, "the body is not valid deflate data"),
    ("gzip", gzip.compress(b"") * (MAX_GZIP_MEMBERS + 1), 400, f"the body holds more than {MAX_GZIP_MEMBERS} gzip"),
], ids=["br", "compress", "not-gzip", "cut-short", "empty", "trailing", "deflate-trailing", "bad-deflate", "members"])
def test_what_cannot_be_inflated_is_a_clear_4xx(coding: str, body: bytes, status: int, detail: str) -> None:
    error = refused(coding, body)
    assert error.status_code == status and error.detail.startswith(detail), error.detail


def test_a_body_compressed_many_times_over_is_refused_before_any_is_undone() -> None:
    # 20,000 stored-block deflate layers (a 160 KB header) took 1.6 s of the server's CPU.
    body = b"x"
    for _ in range(5):
        body = zlib.compress(body, 0)
    error = refused(", ".join(["deflate"] * 5), body)
    assert error.status_code == 400 and error.detail.startswith("the body is compressed 5 times over")
    assert decoded_body(", ".join(["deflate"] * 4), zlib.compress(zlib.compress(zlib.compress(zlib.compress(b"x")))),
                        LIMIT) == b"x"

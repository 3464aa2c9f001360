"""Where to send and read: stream URLs as users paste them, checked and made canonical."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import urllib.parse

from ..protocol import STREAM_ID_PATTERN, is_view_key

# A UUID in any case: users paste what uuidgen printed, and the URL gets the canonical lower case.
_STREAM_PATH = re.compile(rf"^(?P<prefix>.*?)/(?:live/)?(?P<uuid>{STREAM_ID_PATTERN})/?$", re.IGNORECASE)


# What no URL may hold as it is (http.client refuses to send it): whitespace and control characters.
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# What a host name may hold once IDNA-encoded (U+00A0 encodes to a space).
_HOST_NAME = re.compile(r"[A-Za-z0-9._-]{1,253}")
# A user name or password before the host (up to its last "@", as urlsplit reads it).
_USERINFO = re.compile(r"\s*(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
# After the host: nothing, or a port (urlsplit drops what follows an IPv6 address's "]").
_HOST_AND_PORT = re.compile(r"(?:\[[^\]]*\]|[^\[\]:]*)(?::\d*)?")
# The label separators IDNA takes besides ".".
_IDEOGRAPHIC_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# What a browser %-encodes in a path or query before sending it (http.client would fail on every send).
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_EXPECTED = "expected http://host:port/live/<uuid>"


class BadStreamUrl(ValueError):
    """A URL that does not name a BunnyLogs stream; the message says what is expected."""


def http_url_parts(url: str) -> urllib.parse.SplitResult:
    """`url` split and made ASCII, or `BadStreamUrl` saying what is wrong: it must be http(s), with a host
    and a valid port. As a browser does, a host is IDNA-encoded and a path or query %-encoded as UTF-8."""
    if userinfo := _USERINFO.match(url):  # first: no other refusal may show the password either
        raise BadStreamUrl(f"{userinfo['scheme']}…@{url[userinfo.end():]} holds a user name or password: BunnyLogs "
                           "sends none (the stream's UUID is its key); leave out the part before '@'; "
                           f"{_EXPECTED}")
    if _SPACE_OR_CONTROL.search(url):
        raise BadStreamUrl(f"{url!r} is not a valid URL (it holds a space or a control character: write it "
                           f"%-encoded, a space as %20); {_EXPECTED}")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as error:
        raise BadStreamUrl(f"{url!r} is not a valid URL ({error}); {_EXPECTED}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadStreamUrl(f"{url!r} is not an http(s) URL; {_EXPECTED}")
    try:
        if parts.port == 0:  # reading it also checks it: a number within 0-65535
            raise ValueError("port 0")
        if not _HOST_AND_PORT.fullmatch(parts.netloc):
            raise ValueError(f"{parts.netloc!r} is not a host and a port")
        host = _ascii_host(parts.hostname, bracketed=parts.netloc.startswith("["))
        netloc = host + (f":{parts.port}" if parts.port is not None else "")
        return urllib.parse.SplitResult(parts.scheme, netloc, _percent_encoded(_without_dot_segments(parts.path)),
                                        _percent_encoded(parts.query), _percent_encoded(parts.fragment))
    except (ValueError, UnicodeError) as error:
        raise BadStreamUrl(f"{url!r} is not a valid URL ({error}); {_EXPECTED}") from None


def _ascii_host(hostname: str, *, bracketed: bool) -> str:
    """The host as a URL's netloc holds it, in ASCII: an IPv6 address in brackets (its zone, RFC 6874's
    `%25eth0`, as the system takes it: `%eth0`), a name IDNA-encoded; ValueError if it is neither."""
    if bracketed:
        address, _, zone = hostname.partition("%")
        zone = urllib.parse.unquote(f"%{zone}").removeprefix("%") if zone.startswith("25") else zone
        if zone:
            address = f"{address}%{zone}"
        ipaddress.IPv6Address(address)
        return f"[{address}]"
    host = hostname.encode("idna").decode("ascii")  # also checks labels of 1 to 63 characters
    if len(host) > 253:
        raise ValueError(f"the host name is {len(host)} characters long, past the 253 a name may have")
    if not _HOST_NAME.fullmatch(host):
        raise ValueError(f"the host {hostname!r} is not a host name or address")
    # Python's IDNA (2003) maps some characters otherwise than browsers (UTS 46: "ß" stays "ß") or
    # drops them (a zero-width space): such a host would name another site. The ASCII form is exact.
    if not hostname.isascii() and _unicode_labels(host) != _unicode_labels(
            unicodedata.normalize("NFKC", hostname).translate(_IDEOGRAPHIC_DOTS).lower()):
        raise ValueError(f"the host {hostname!r} holds characters that IDNA versions encode differently, or that "
                         "encoding would drop: write it in its ASCII form (xn--…)")
    return host


def _unicode_labels(host: str) -> list[str]:
    """The labels of `host`, each ACE label (`xn--…`) decoded."""
    return [label.encode("ascii").decode("idna") if label.isascii() and label.startswith("xn--") else label
            for label in host.split(".")]


def _without_dot_segments(path: str) -> str:
    """`path` with its "." and ".." segments resolved, as a browser resolves them (RFC 3986, 5.2.4)."""
    kept: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        dots = segment.lower().replace("%2e", ".")
        if dots in (".", ".."):
            if dots == ".." and len(kept) > 1:
                kept.pop()
            if index == len(segments) - 1:
                kept.append("")  # "/a/.." is "/", not ""
        else:
            kept.append(segment)
    return "/".join(kept)


def _percent_encoded(text: str) -> str:
    """`text` with its non-ASCII characters %-encoded as UTF-8; a byte that was not UTF-8 (a command line
    argument's surrogate escape) as that byte."""
    return _NON_ASCII.sub(lambda match: urllib.parse.quote(match.group(), errors="surrogateescape"), text)


def stream_url(url: str, *, keep_query: bool = False) -> str:
    """The `/live/<uuid>` URL of a stream, from that URL or the stream page's (`http://host/<uuid>`).

    The query is dropped unless `keep_query` (a sender keeps `?level=`/`?program=` defaults).
    """
    parts = http_url_parts(url.strip())
    match = _STREAM_PATH.match(parts.path)
    if match is None:
        raise BadStreamUrl(f"{url!r} does not name a stream; {_EXPECTED}")
    path = f"{match['prefix']}/live/{match['uuid'].lower()}"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query if keep_query else "", ""))


def sending_url(url: str, *, keep_query: bool = True) -> str:
    """`stream_url` for a sender, which also refuses a read-only link (the server would answer 403).

    The query is kept unless not `keep_query` (`?level=`/`?program=` defaults).
    """
    checked = stream_url(url, keep_query=keep_query)
    key = urllib.parse.urlsplit(checked).path.rpartition("/")[2]
    if is_view_key(key):
        raise BadStreamUrl(f"{url!r} is a read-only link: it can follow the stream (bunnylogs tail, the page) "
                           "but not send to it; send to the stream's write URL instead (the POST URL on the page "
                           "the read-only link was copied from)")
    return checked

"""Where to send and read: stream URLs as users paste them, checked and made canonical."""

from __future__ import annotations

import re
import urllib.parse

from ..protocol import STREAM_ID_PATTERN, is_view_key

# A UUID in any case: users paste what uuidgen printed, and the URL gets the canonical lower case.
_STREAM_PATH = re.compile(rf"^(?P<prefix>.*?)/(?:live/)?(?P<uuid>{STREAM_ID_PATTERN})/?$", re.IGNORECASE)


# What no URL may hold as it is (http.client refuses to send it): whitespace and control characters.
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# What a host name may hold once IDNA-encoded (U+00A0 encodes to a space); an IPv6 literal also ':'.
_HOST_NAME = re.compile(r"[A-Za-z0-9._-]+")
_IPV6_LITERAL = re.compile(r"[0-9A-Fa-f:.]+")
# What a browser %-encodes in a path or query before sending it (http.client would fail on every send).
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class BadStreamUrl(ValueError):
    """A URL that does not name a BunnyLogs stream; the message says what is expected."""


def http_url_parts(url: str) -> urllib.parse.SplitResult:
    """`url` split and made ASCII, or `BadStreamUrl` saying what is wrong: it must be http(s), with a host
    and a valid port. As a browser does, a host is IDNA-encoded and a path or query %-encoded as UTF-8."""
    if _SPACE_OR_CONTROL.search(url):
        raise BadStreamUrl(f"{url!r} is not a valid URL (it holds a space or a control character: write it "
                           "%-encoded, a space as %20); expected http://host:port/live/<uuid>")
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadStreamUrl(f"{url!r} is not an http(s) URL; expected http://host:port/live/<uuid>")
        if parts.port == 0:  # reading it also checks it: a number within 0-65535
            raise ValueError("port 0")
        host = parts.hostname.encode("idna").decode("ascii")  # also checks labels of 1 to 63 characters
        bracketed = parts.netloc.rpartition("@")[2].startswith("[")
        if not (_IPV6_LITERAL if bracketed else _HOST_NAME).fullmatch(host):
            raise ValueError(f"the host {parts.hostname!r} is not a host name or address")
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = ((f"{_percent_encoded(userinfo)}@" if userinfo else "") + (f"[{host}]" if bracketed else host)
                  + (f":{parts.port}" if parts.port is not None else ""))
        return urllib.parse.SplitResult(parts.scheme, netloc, _percent_encoded(parts.path),
                                        _percent_encoded(parts.query), _percent_encoded(parts.fragment))
    except (ValueError, UnicodeError) as error:
        if isinstance(error, BadStreamUrl):
            raise
        raise BadStreamUrl(f"{url!r} is not a valid URL ({error}); expected http://host:port/live/<uuid>") from None


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
        raise BadStreamUrl(f"{url!r} does not name a stream; expected http://host:port/live/<uuid>")
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

"""Security headers on every answer, and the `robots.txt` that keeps streams out of search engines.

The pages' Content-Security-Policy is as strict as NiceGUI allows:
- `script-src 'self' 'unsafe-inline' 'unsafe-eval'`: NiceGUI writes each page's element tree and
  start-up code as inline scripts (without a nonce), and Vue compiles the components' string
  templates in the browser, which needs `eval`. Everything else comes from this origin.
- `style-src 'self' 'unsafe-inline'`: Quasar, Vue and NiceGUI set inline styles, and the page's
  CSS is added in `<style>` elements.
- `connect-src 'self'`: the page's socket and fetches go to this origin only (a ws: URL to the
  same host matches 'self').
- `img-src 'self' data: blob:`, `font-src 'self' data:`: icons and fonts are served by NiceGUI or
  inlined; downloads are blob: URLs.
- `frame-ancestors 'none'`, `object-src 'none'`, `base-uri 'self'`, `form-action 'self'`.
Log text never becomes markup (see the row renderer), so the inline allowances are not what keeps
it inert; the policy limits what an injection could reach if one were found.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ROBOTS_TXT = b"# Streams are private: their address is their key.\nUser-agent: *\nAllow: /$\nDisallow: /\n"
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
               "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
               "frame-ancestors 'none'")
# FastAPI's API docs page loads Swagger UI from its CDN.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
               "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
               "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
# JSON, event streams and everything else that is not a page: nothing to load, nothing to frame.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_PATHS = ("/api/docs", "/api/docs/oauth2-redirect")

# What every answer that is not a page carries, for the answers made outside this middleware (the
# ingest fast lane's, the JSON errors, the connection timeouts' 408s).
DATA_ANSWER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": DATA_POLICY,
    "X-Robots-Tag": "noindex, nofollow",
}
_COMMON = [(name.lower().encode(), value.encode()) for name, value in DATA_ANSWER_HEADERS.items()
           if name not in ("Content-Security-Policy", "X-Robots-Tag")]


class SecurityHeaders:
    """ASGI middleware: adds the headers above to every HTTP answer of `app`, and serves `/robots.txt`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/robots.txt" and scope["method"] in ("GET", "HEAD"):
            await _send_robots(send, with_body=scope["method"] == "GET")
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                present = {name.lower() for name, _ in own}
                message["headers"] = [*own, *((name, value) for name, value in _headers_for(path, message)
                                              if name not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _headers_for(path: str, start: Message) -> list[tuple[bytes, bytes]]:
    content_type = next((value for name, value in start.get("headers", []) if name.lower() == b"content-type"), b"")
    if path in DOCS_PATHS:
        policy = DOCS_POLICY
    elif content_type.startswith(b"text/html"):
        policy = PAGE_POLICY
    else:
        policy = DATA_POLICY
    headers = [*_COMMON, (b"content-security-policy", policy.encode())]
    if path != "/":  # stream pages and API answers: never in a search index, even when linked
        headers.append((b"x-robots-tag", b"noindex, nofollow"))
    return headers


async def _send_robots(send: Send, *, with_body: bool) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(ROBOTS_TXT)).encode()),
        *_COMMON, (b"content-security-policy", DATA_POLICY.encode())]})
    await send({"type": "http.response.body", "body": ROBOTS_TXT if with_body else b""})

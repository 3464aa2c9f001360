"""A request answered in place of a page (not found, a redirect, a refusal) holds nothing in the server.

NiceGUI makes a page session for every request to a page route before the page reads its address, and
keeps one whose socket never connects for a minute or more: a stream of junk addresses, or of pages a
limit refused, held some 50-350 KB each for that minute, enough for one client to fill the memory.
"""

from __future__ import annotations

import time
import uuid

import httpx

from dashboard.pages.not_found import NO_SUCH_PAGE
from harness.servers import AppProcess, running_app

CONNECT_S = 2.0  # --page-connect-seconds: NiceGUI alone keeps a page that never connected a minute or more
REFUSAL = "Too many BunnyLogs pages and event streams are open from your address"


def pages_held(app: AppProcess) -> int:
    return httpx.get(f"{app.url}/healthz").json()["pages"]


def test_not_found_redirects_and_refusals_leave_no_page_session() -> None:
    with running_app("--viewers-per-client", "1", "--page-reconnect-seconds", "2.5") as app, \
            httpx.Client(base_url=app.url, timeout=10) as http:
        before = pages_held(app)
        heap_before = http.get("/healthz").json()["heap"]
        for n in range(40):  # more than the closed pages that make a full collection due: none is counted
            assert http.get(f"/not-a-stream-{n}").status_code == 404
        junk = ["/not-a-stream", "/" + "a" * 60_000, f"/{uuid.uuid4()}+junk", "/" + "+".join(["x"] * 30)]
        for path in junk:
            assert http.get(path).status_code in (400, 404)
        for path in ("/no/such/page", "/x/" + "a" * 20_000, "/_nicegui/nothing"):  # no page route: NiceGUI's 404
            answer = http.get(path)
            assert answer.status_code == 404 and answer.text == NO_SUCH_PAGE
            assert answer.headers["cache-control"] == "no-store"
        upper = str(uuid.uuid4()).upper()
        for path in (f"/{upper}", f"/{uuid.uuid4()}+{upper}"):
            assert http.get(path, follow_redirects=False).status_code == 308
        assert pages_held(app) == before
        assert http.get(f"/{uuid.uuid4()}").status_code == 200  # the client's one page, waiting for its socket
        for _ in range(20):
            refused = http.get(f"/{uuid.uuid4()}")
            assert refused.status_code == 429 and refused.headers["retry-after"] == "3"  # a page's window, whole s
            assert refused.headers["cache-control"] == "no-store"
            assert REFUSAL in refused.text and "--viewers-per-client" in refused.text
            assert "its place is free about 2.5 s after it closes" in refused.text
        merged = http.get("/" + "+".join(str(uuid.uuid4()) for _ in range(2)))
        assert merged.status_code == 400 and "This view follows 2 streams" in merged.text
        assert pages_held(app) == before + 1
        heap = http.get("/healthz").json()["heap"]
        assert (heap["reclaims"], heap["closed_since_reclaim"]) == (heap_before["reclaims"], 0)


def test_a_landing_page_nobody_opens_is_let_go_with_the_stream_pages() -> None:
    with running_app("--page-connect-seconds", str(CONNECT_S)) as app, \
            httpx.Client(base_url=app.url, timeout=10) as http:
        before = pages_held(app)
        for n in range(20):  # a crawler, or curl: the page's HTML, never its socket
            assert http.get(f"/?q={n}").status_code == 200
        assert pages_held(app) == before + 20
        deadline = time.monotonic() + CONNECT_S + 10
        assert "--page-connect-seconds 2 is within socket.io's 20 s connect timeout" in app.output()
        while pages_held(app) > before:
            assert time.monotonic() < deadline, "landing pages without a socket are still held"
            time.sleep(0.5)

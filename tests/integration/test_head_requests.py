"""HEAD gets what GET would (status, type, redirect), with no body, and builds no page: uptime monitors
ask with HEAD, and got a 405 from every page and from /healthz."""

from __future__ import annotations

import uuid

import httpx
import pytest

from harness.servers import running_app, running_redis


def pages_held(http: httpx.Client) -> int:
    return int(http.get("/healthz").json()["pages"])


def test_head_answers_as_get_would_without_building_a_page() -> None:
    stream, other = str(uuid.uuid4()), str(uuid.uuid4())
    upper = stream.upper()
    with running_app() as app, httpx.Client(base_url=app.url, timeout=10) as http:
        before = pages_held(http)
        for path in ("/", f"/{stream}", f"/{stream}+{other}", f"/{upper}?q=x", f"/{stream}+{stream}", "/not-a-stream",
                     f"/{stream}+junk", "/" + "+".join(str(uuid.uuid4()) for _ in range(30)), "/healthz", "/readyz"):
            head = http.head(path)
            assert head.content == b"", path
            assert head.headers["x-content-type-options"] == "nosniff", "the same security headers as any answer"
            if path.startswith("/healthz") or path.startswith("/readyz"):
                get = http.get(path)
                assert (head.status_code, head.headers["content-type"], head.headers["content-length"]) == (
                    get.status_code, get.headers["content-type"], get.headers["content-length"])
                continue
            assert head.headers["cache-control"] == "no-store"
            expected = {f"/{upper}?q=x": 308, f"/{stream}+{stream}": 308, "/not-a-stream": 404,
                        f"/{stream}+junk": 404}.get(path, 400 if path.count("+") > 1 else 200)
            assert head.status_code == expected, path
            if expected == 308:  # as GET's: no body, no type
                assert "content-type" not in head.headers and head.headers["content-length"] == "0"
            else:
                assert head.headers["content-type"] == "text/html; charset=utf-8", path
                assert "content-length" not in head.headers, "no page was built to measure"
        assert http.head(f"/{upper}?q=x").headers["location"] == f"/{stream}?q=x"
        assert http.head(f"/{stream}+{stream}").headers["location"] == f"/{stream}"
        assert pages_held(http) == before, "HEAD holds no page session"
        # GET agrees on each status (its pages are built, and held a while: checked last).
        for path, status in (("/", 200), (f"/{stream}", 200), (f"/{upper}", 308), ("/not-a-stream", 404)):
            assert http.get(path, follow_redirects=False).status_code == status


def test_head_says_a_view_is_more_than_a_client_may_follow_as_get_does() -> None:
    keys = [str(uuid.uuid4()) for _ in range(3)]
    with running_app("--viewers-per-client", "2") as app, httpx.Client(base_url=app.url, timeout=10) as http:
        for path, status in (("/" + "+".join(keys), 400), ("/" + "+".join(keys[:2]), 200)):
            assert http.head(path).status_code == status
        assert http.get("/" + "+".join(keys)).status_code == 400
        repeated = "/" + "+".join([*keys, keys[0].upper()])  # to its one address first, as GET
        assert http.head(repeated).status_code == http.get(repeated, follow_redirects=False).status_code == 308


def test_a_process_without_pages_answers_head_on_a_page_address_as_get() -> None:
    stream = str(uuid.uuid4())
    with running_redis() as redis, running_app("--role", "ingest", "--redis-url", redis.url) as app, \
            httpx.Client(base_url=app.url, timeout=10) as http:
        head, get = http.head(f"/{stream}"), http.get(f"/{stream}")
        assert head.status_code == get.status_code == 404
        assert head.headers["content-type"] == get.headers["content-type"] == "application/json"
        assert http.head("/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/live/{stream}", "/live/{stream}/entries"])
def test_head_on_the_live_routes_is_still_refused_with_what_to_use(path: str) -> None:
    with running_app() as app, httpx.Client(base_url=app.url, timeout=10) as http:
        answer = http.head(path.format(stream=uuid.uuid4()))
        assert answer.status_code == 405 and "GET" in answer.headers["allow"]

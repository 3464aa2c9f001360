"""The server told to stop while Redis has stopped answering: the requests under way get a JSON 503
that says so (uvicorn's grace ends by cancelling them, and gave a plain-text 500; or our own 500 for a
request renewing the rate limit's lease while others waited for it), and the bus closes
without waiting for Redis step by step (the process took 19 s to end)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import httpx

from harness.servers import running_app, running_redis

# uvicorn's grace (3 s) and the bus's wait while closing (3 s), with room for a loaded machine; each
# step waited out Redis's socket timeout (5 s) before.
EXIT_WITHIN_S = 14


def test_requests_under_way_get_a_json_503_and_the_server_ends() -> None:
    stream = str(uuid.uuid4())
    with running_redis() as redis, running_app("--redis-url", redis.url) as app:
        with httpx.Client(timeout=30) as client:
            # Another stream: this one must have no lease of its stream limit yet (see below).
            assert client.post(f"{app.url}/live/{uuid.uuid4()}", data={"message": "before"}).status_code == 204
        answers: dict[str, httpx.Response | Exception] = {}

        def ask(name: str, method: str, path: str, **kwargs: object) -> None:
            try:
                with httpx.Client(timeout=30) as client:
                    answers[name] = client.request(method, f"{app.url}{path}", **kwargs)  # type: ignore[arg-type]
            except httpx.HTTPError as error:
                answers[name] = error

        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            # Several POSTs to one stream: all but one wait for the rate limit's renewal, which the shutdown's
            # cancel of a waiter broke (InvalidStateError: a 500 for the one renewing).
            asking = [*(threading.Thread(target=ask, args=(f"post {n}", "POST", f"/live/{stream}"),
                                         kwargs={"data": {"message": f"under way {n}"}}) for n in range(3)),
                      threading.Thread(target=ask, args=("entries", "GET", f"/live/{stream}/entries"))]
            for thread in asking:
                thread.start()
            time.sleep(1)  # both are waiting on Redis
            assert answers == {}
            stopped_at = time.monotonic()
            app.process.send_signal(signal.SIGTERM)
            app.process.wait(timeout=30)
            took = time.monotonic() - stopped_at
            for thread in asking:
                thread.join(timeout=30)
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        details = {}
        for name, answer in answers.items():
            assert isinstance(answer, httpx.Response), (name, answer, app.last_output())
            assert answer.status_code == 503 and answer.headers["content-type"] == "application/json", answer.text
            assert answer.headers["retry-after"]
            details[name] = answer.json()["detail"]
        for n in range(3):
            assert details[f"post {n}"].startswith("the server stopped before these entries were known to be stored")
            assert "Idempotency-Key" in details[f"post {n}"]
        assert details["entries"].startswith("the server stopped before this request was done"), details
        assert took < EXIT_WITHIN_S, (took, app.last_output())

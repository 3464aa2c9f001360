"""The README's Redis ACL user (its keys only, nothing dangerous) is all BunnyLogs needs."""

from __future__ import annotations

import uuid

import httpx
import redis

from harness.servers import running_app, running_redis

# As in the README's "Restarts, Redis and the proxy in front".
ACL_RULES = ["on", ">secret", "~bunnylogs:*", "&*", "+@all", "-@dangerous"]


def test_bunnylogs_works_as_the_documented_acl_user() -> None:
    with running_redis() as server:
        with redis.Redis.from_url(server.url) as admin:
            admin.execute_command("ACL", "SETUSER", "bunnylogs", *ACL_RULES)
        url = f"redis://bunnylogs:secret@127.0.0.1:{server.port}/0"
        with running_app("--redis-url", url) as app, httpx.Client(timeout=10) as http:
            stream = str(uuid.uuid4())
            assert http.post(f"{app.url}/live/{stream}", data={"message": "stored"}).status_code == 204
            with http.stream("GET", f"{app.url}/live/{stream}") as events:
                received = b""
                chunks = events.iter_raw()
                while b"stored" not in received:
                    received += next(chunks)
                assert http.post(f"{app.url}/live/{stream}", data={"message": "live"}).status_code == 204
                while b"live" not in received.split(b"stored", 1)[1]:
                    received += next(chunks)
            for _ in range(2):  # a batch key is one of its keys too
                batch = http.post(f"{app.url}/live/{stream}", data={"message": "once"},
                                  headers={"Idempotency-Key": "k1"})
                assert batch.status_code == 204
            entries = http.get(f"{app.url}/live/{stream}/entries").json()["entries"]
            assert [entry["message"] for entry in entries] == ["stored", "live", "once"]

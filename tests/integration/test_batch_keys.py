"""A batch sent again with the same Idempotency-Key, to a real server on either bus, is stored once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from harness.servers import AppProcess, running_app


@pytest.fixture(scope="module", params=["memory", "redis"])
def server(request: pytest.FixtureRequest) -> Iterator[AppProcess]:
    args = ("--role", "ingest", "--redis-url", request.getfixturevalue("redis_url")) if request.param == "redis" else ()
    with running_app(*args) as app:
        yield app


def test_a_batch_posted_twice_with_one_key_is_stored_once(server: AppProcess) -> None:
    stream = str(uuid.uuid4())
    url = f"{server.url}/live/{stream}"
    batch = [{"message": f"line {n}"} for n in range(3)]
    with httpx.Client(timeout=10) as http:
        for key in ("retry-me", "retry-me", "another"):
            assert http.post(url, json=batch, headers={"Idempotency-Key": key}).status_code == 204
        refused = http.post(url, json=batch, headers={"Idempotency-Key": "no spaces"})
        stored = http.get(f"{url}/entries", params={"limit": 100}).json()["entries"]
    assert refused.status_code == 422 and "Idempotency-Key" in refused.json()["detail"]
    assert [entry["message"] for entry in stored] == [f"line {n}" for n in range(3)] * 2

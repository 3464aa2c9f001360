"""Each limit's decision and its answer: 429, Retry-After, a JSON detail naming the limit and its setting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import orjson
import pytest
from fastapi import FastAPI
from limits.aio.storage import MemoryStorage
from starlette.types import ASGIApp

from dashboard.bus.memory import MemoryBus
from dashboard.cli import main
from dashboard.client_identity import client_address
from dashboard.entry import LogEntry
from dashboard.follower_limits import FollowerLimits
from dashboard.ingest import Ingest, IngestFastLane
from dashboard.ingest_limits import OTHER_LEVEL, OTHER_PROGRAM, IngestLimits, NameCaps
from dashboard.live_routes import build_live_router
from dashboard.protocol import bus_stream_id
from dashboard.rate_limit import RateLimit, Refusal
from dashboard.readback import Readback
from dashboard.settings import Settings

STREAM = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
OTHER_STREAM = "1c7e6a3b-9d2f-4e4c-8a8b-3f5d7b9c1e2a"
NO_LIMITS = {"stream_entries_per_second": 0, "stream_bytes_per_second": 0, "client_requests_per_second": 0,
             "client_streams_per_hour": 0, "viewers_per_stream": 0, "viewers_per_client": 0,
             "levels_per_stream": 0, "programs_per_stream": 0}


def limited_app(path: str, **limits: int | bool) -> tuple[ASGIApp, MemoryBus, Ingest, Readback]:
    """The /live routes (alone, or behind the fast lane) with only the given limits on."""
    settings = Settings(**{**NO_LIMITS, **limits})
    bus = MemoryBus(max_length=10_000)
    ingest = Ingest(bus, IngestLimits(settings, MemoryStorage()))
    readback = Readback(bus, default_history=0, keepalive_seconds=15, followers=FollowerLimits(settings),
                        trust_forwarded_for=settings.trust_x_forwarded_for)
    app = FastAPI()
    app.include_router(build_live_router(ingest=ingest, readback=readback))
    return (IngestFastLane(app, ingest) if path == "fast lane" else app), bus, ingest, readback


@pytest.fixture(params=["router", "fast lane"])
def entry_point(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[[ASGIApp], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(app: ASGIApp) -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test"))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


def assert_refused(response: httpx.Response, setting: str) -> int:
    """A 429 naming `setting`, with a whole number of seconds in Retry-After; returns that number."""
    assert response.status_code == 429, response.text
    detail = response.json()["detail"]
    assert setting in detail and "limit reached" in detail
    assert response.headers["access-control-allow-origin"] == "*"
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    return int(retry_after)


async def stored(bus: MemoryBus, stream_id: str = STREAM) -> list[LogEntry]:
    """What the bus holds for the stream whose write key is `stream_id`."""
    # Read, not a subscription's history: that is cut to its newest MiB.
    return [stream_entry.entry for stream_entry in await bus.read(bus_stream_id(stream_id), after="0", limit=100_000)]


# --- the rate limit itself ---------------------------------------------------------------------------
async def test_a_rate_limit_allows_its_amount_then_refuses_until_the_window_frees_some() -> None:
    limit = RateLimit(MemoryStorage(), name="t", limit="things per key", setting="--things", allowed="5 per 5 s",
                      amount=5, window_seconds=5)
    assert [await limit.take("a") for _ in range(5)] == [None] * 5
    refusal = await limit.take("a")
    assert isinstance(refusal, Refusal)
    assert (refusal.limit, refusal.setting) == ("things per key", "--things")
    assert 1 <= refusal.retry_after <= 5
    assert await limit.take("b") is None  # each key has its own window


class CountedStorage(MemoryStorage):
    """A memory storage that counts the window entries asked of it, each after `delay` (a Redis round trip)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.calls = 0
        self._delay = delay

    async def acquire_sliding_window_entry(self, *args: object, **kwargs: object) -> bool:  # type: ignore[override]
        self.calls += 1
        if self._delay:
            await asyncio.sleep(self._delay)
        return await super().acquire_sliding_window_entry(*args, **kwargs)  # type: ignore[arg-type]


async def test_a_busy_key_asks_the_storage_once_per_lease_not_once_per_request() -> None:
    storage = CountedStorage()
    limit = RateLimit(storage, name="t", limit="l", setting="--s", allowed="a", amount=5000 * 5, window_seconds=5)
    for _ in range(1000):
        assert await limit.take("stream") is None
    assert storage.calls <= 3  # a lease is a tenth of a second's worth: 500


async def test_a_request_cancelled_while_it_waits_for_a_renewal_leaves_the_renewal_whole() -> None:
    # At shutdown uvicorn cancels the requests still under way: one waiting for another's renewal
    # cancelled the shared future, and the renewing one then failed with InvalidStateError (a 500).
    limit = RateLimit(CountedStorage(delay=0.05), name="t", limit="l", setting="--s", allowed="a",
                      amount=5000 * 5, window_seconds=5)
    renewing = asyncio.create_task(limit.take("stream"))
    await asyncio.sleep(0.01)  # under way, in the storage
    waiting = asyncio.create_task(limit.take("stream"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    assert await renewing is None
    assert waiting.cancelled()
    assert await limit.take("stream") is None  # spends from the lease the renewal brought


async def test_a_refused_key_is_refused_again_without_asking_the_storage() -> None:
    storage = MemoryStorage()
    limit = RateLimit(storage, name="t", limit="l", setting="--s", allowed="a", amount=2, window_seconds=60)
    assert await limit.take("a", 2) is None
    assert await limit.take("a") is not None
    storage.acquire_sliding_window_entry = None  # type: ignore[assignment,method-assign]  # would raise if called
    assert await limit.take("a") is not None


async def test_a_request_larger_than_the_whole_window_passes_on_an_empty_one() -> None:
    limit = RateLimit(MemoryStorage(), name="t", limit="l", setting="--s", allowed="a", amount=10, window_seconds=1)
    assert await limit.take("a", 1000) is None
    assert await limit.take("a") is not None


# --- each ingest limit, through both entry points ------------------------------------------------------
async def test_client_requests_per_second(entry_point: str, make_client: Callable) -> None:
    app, bus, ingest, _ = limited_app(entry_point, client_requests_per_second=1, burst_seconds=3)
    http = make_client(app)
    statuses = [(await http.post(f"/live/{STREAM}", data={"message": f"m{n}"})).status_code for n in range(3)]
    assert statuses == [204] * 3
    assert_refused(await http.post(f"/live/{STREAM}", data={"message": "one too many"}),
                   "--client-requests-per-second")
    assert [entry.message for entry in await stored(bus)] == ["m0", "m1", "m2"]
    assert ingest.limits is not None and ingest.limits.refusals.by_setting == {"--client-requests-per-second": 1}
    assert ingest.requests_refused == 1


async def test_stream_entries_per_second_counts_entries_not_requests(entry_point: str, make_client: Callable) -> None:
    app, bus, *_ = limited_app(entry_point, stream_entries_per_second=1, burst_seconds=10)
    http = make_client(app)
    assert (await http.post(f"/live/{STREAM}", json=[{"message": f"m{n}"} for n in range(8)])).status_code == 204
    assert_refused(await http.post(f"/live/{STREAM}", json=[{"message": "a"}, {"message": "b"}, {"message": "c"}]),
                   "--stream-entries-per-second")
    assert (await http.post(f"/live/{OTHER_STREAM}", json=[{"message": "x"}] * 8)).status_code == 204
    assert len(await stored(bus)) == 8  # the refused batch left nothing behind


async def test_stream_bytes_per_second(entry_point: str, make_client: Callable) -> None:
    app, *_ = limited_app(entry_point, stream_bytes_per_second=200, burst_seconds=10)
    http = make_client(app)
    big = {"message": "x" * 1500}
    assert (await http.post(f"/live/{STREAM}", json=big)).status_code == 204
    response = await http.post(f"/live/{STREAM}", json=big)
    assert_refused(response, "--stream-bytes-per-second")
    assert "bytes per second per stream" in response.json()["detail"]


async def test_client_streams_per_hour_counts_each_stream_once(entry_point: str, make_client: Callable) -> None:
    app, *_ = limited_app(entry_point, client_streams_per_hour=2)
    http = make_client(app)
    for _ in range(3):  # sending again to a stream of this hour is free
        assert (await http.post(f"/live/{STREAM}", data={"message": "m"})).status_code == 204
        assert (await http.post(f"/live/{OTHER_STREAM}", data={"message": "m"})).status_code == 204
    third = "2d8f7b4c-0e3a-4f5d-9b9c-4a6e8c0d2f3b"
    retry_after = assert_refused(await http.post(f"/live/{third}", data={"message": "m"}), "--client-streams-per-hour")
    assert retry_after <= 3600


async def test_zero_turns_every_limit_off(entry_point: str, make_client: Callable) -> None:
    app, bus, *_ = limited_app(entry_point)
    http = make_client(app)
    for n in range(50):
        assert (await http.post(f"/live/{STREAM}", json=[{"message": f"m{n}", "level": f"L{n}"}] * 20)).status_code \
            == 204
    assert len({entry.level for entry in await stored(bus)}) == 50


def test_defaults_are_far_above_a_busy_real_user() -> None:
    settings = Settings()
    assert (settings.stream_entries_per_second, settings.stream_bytes_per_second, settings.burst_seconds) == \
        (5000, 10_000_000, 5)
    assert (settings.client_requests_per_second, settings.client_streams_per_hour) == (200, 1000)
    assert (settings.viewers_per_stream, settings.viewers_per_client) == (1000, 200)
    assert (settings.levels_per_stream, settings.programs_per_stream) == (30, 500)
    assert settings.trust_x_forwarded_for is False


# --- who the client is --------------------------------------------------------------------------------
def test_the_client_is_the_peer_unless_a_trusted_proxy_says_otherwise() -> None:
    scope = {"client": ("10.0.0.5", 5555), "headers": [(b"x-forwarded-for", b"1.2.3.4, 203.0.113.9")]}
    assert client_address(scope, trust_forwarded_for=False) == "10.0.0.5"
    assert client_address(scope, trust_forwarded_for=True) == "203.0.113.9"  # the address the proxy added
    assert client_address({"client": None, "headers": []}, trust_forwarded_for=True) == "unknown"


def test_an_ipv6_client_is_its_slash_64_network() -> None:
    def of(peer: str, forwarded: bytes = b"") -> str:
        headers = [(b"x-forwarded-for", forwarded)] if forwarded else []
        return client_address({"client": (peer, 5555), "headers": headers}, trust_forwarded_for=bool(forwarded))

    assert of("2001:db8:1:2::1") == of("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert of("2001:db8:1:3::1") != of("2001:db8:1:2::1")
    assert of("10.0.0.5", b"2001:db8:1:2::7") == "2001:db8:1:2::/64"  # also when a trusted proxy names it
    assert of("::ffff:203.0.113.9") == "203.0.113.9"  # an IPv4 client seen through an IPv6 socket
    assert of("203.0.113.9") == "203.0.113.9"
    assert of("10.0.0.5", b"not an address") == "not an address"


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(make_client: Callable) -> None:
    # A 10 s window: a slow machine pausing between these requests must not give the allowance back.
    app, *_ = limited_app("fast lane", client_requests_per_second=1, burst_seconds=10, trust_x_forwarded_for=True)
    http = make_client(app)
    for address in ("198.51.100.1", "198.51.100.2"):
        for _ in range(10):
            response = await http.post(f"/live/{STREAM}", data={"message": "m"},
                                       headers={"X-Forwarded-For": address})
            assert response.status_code == 204
    response = await http.post(f"/live/{STREAM}", data={"message": "m"}, headers={"X-Forwarded-For": "198.51.100.1"})
    assert_refused(response, "--client-requests-per-second")


# --- distinct levels and programs per stream ------------------------------------------------------------
def test_3000_custom_levels_make_at_most_the_cap_and_the_rest_fold_into_other() -> None:
    caps = NameCaps(levels=30, programs=500)
    entries = [LogEntry(message=f"m{n}", timestamp=0.0, level=f"CUSTOM{n}") for n in range(3000)]
    entries += [LogEntry(message=level, timestamp=0.0, level=level) for level in ("TRACE", "WARNING", "CRITICAL")]
    kept = caps.fold(STREAM, entries)
    assert [entry.message for entry in kept] == [entry.message for entry in entries]  # nothing lost, same order
    assert {entry.level for entry in kept} == {f"CUSTOM{n}" for n in range(30)} | {OTHER_LEVEL, "TRACE", "WARNING",
                                                                                  "CRITICAL"}
    assert kept[2999].fields() == {"level": "CUSTOM2999"}  # the name it had stays with it, where the filter finds it
    assert caps.folded == 2970
    assert caps.fold(OTHER_STREAM, entries[:1])[0].level == "CUSTOM0"  # each stream has its own names


def test_programs_past_their_cap_fold_into_other_and_keep_their_fields() -> None:
    caps = NameCaps(levels=0, programs=2)
    entries = [LogEntry(message="m", timestamp=0.0, program=f"p{n}", fields_json=orjson.dumps({"order": n}))
               for n in range(4)]
    kept = caps.fold(STREAM, entries)
    assert [entry.program for entry in kept] == ["p0", "p1", OTHER_PROGRAM, OTHER_PROGRAM]
    assert kept[3].fields() == {"program": "p3", "order": 3}
    assert caps.fold(STREAM, [entries[0]])[0] is entries[0]  # a known name is not copied


async def test_ingest_folds_levels_past_the_cap(entry_point: str, make_client: Callable) -> None:
    app, bus, *_ = limited_app(entry_point, levels_per_stream=30)
    http = make_client(app)
    batch = [{"message": f"m{n}", "level": f"LEVEL{n}"} for n in range(1000)]
    for start in range(0, 3000, 1000):
        assert (await http.post(f"/live/{STREAM}", json=[{**e, "level": f"L{start}x{n}"} for n, e in
                                                          enumerate(batch)])).status_code == 204
    levels = {entry.level for entry in await stored(bus)}
    assert len(levels) == 31 and OTHER_LEVEL in levels


# --- open pages and event streams -------------------------------------------------------------------------
def test_followers_are_counted_per_stream_and_per_client_and_uncounted_once() -> None:
    followers = FollowerLimits(Settings(**{**NO_LIMITS, "viewers_per_stream": 2, "viewers_per_client": 3}))
    first, second = followers.open(STREAM, "a"), followers.open(STREAM, "b")
    assert callable(first) and callable(second)
    refused = followers.open(STREAM, "c")
    assert isinstance(refused, Refusal) and refused.setting == "--viewers-per-stream"
    first()
    first()  # a second close changes nothing
    third = followers.open(STREAM, "c")
    assert callable(third)
    assert isinstance(followers.open(STREAM, "d"), Refusal)
    assert all(callable(followers.open(OTHER_STREAM, "b")) for _ in range(2))
    refused = followers.open("2d8f7b4c-0e3a-4f5d-9b9c-4a6e8c0d2f3b", "b")
    assert isinstance(refused, Refusal) and refused.setting == "--viewers-per-client"
    assert followers.refusals.by_setting == {"--viewers-per-stream": 2, "--viewers-per-client": 1}


def test_a_view_of_more_streams_than_a_client_may_follow_is_refused_whatever_else_is_open() -> None:
    followers = FollowerLimits(Settings(**{**NO_LIMITS, "viewers_per_client": 6}))
    assert followers.too_many_for_a_client(6) is None
    refused = followers.too_many_for_a_client(8)
    assert isinstance(refused, Refusal) and refused.setting == "--viewers-per-client"
    assert followers.refusals.by_setting == {"--viewers-per-client": 1}
    assert FollowerLimits(Settings(**NO_LIMITS)).too_many_for_a_client(8) is None  # 0: no limit


@pytest.mark.parametrize(("limits", "setting"), [({"viewers_per_stream": 1}, "--viewers-per-stream"),
                                                  ({"viewers_per_client": 1}, "--viewers-per-client")])
async def test_an_event_stream_over_a_limit_is_a_429(make_client: Callable, limits: dict, setting: str) -> None:
    app, _, _, readback = limited_app("router", **limits)
    assert readback.followers is not None
    assert callable(readback.followers.open(bus_stream_id(STREAM), "127.0.0.1"))  # someone already follows from here
    response = await make_client(app).get(f"/live/{STREAM}", headers={"Accept": "text/event-stream"})
    assert_refused(response, setting)
    assert json.loads(response.text)["detail"].startswith("limit reached: open pages and event streams")


async def test_retry_after_comes_from_the_window(make_client: Callable) -> None:
    app, *_ = limited_app("fast lane", client_requests_per_second=1, burst_seconds=30)
    http = make_client(app)
    for _ in range(30):
        assert (await http.post(f"/live/{STREAM}", data={"message": "m"})).status_code == 204
    retry_after = assert_refused(await http.post(f"/live/{STREAM}", data={"message": "m"}),
                                 "--client-requests-per-second")
    assert 1 <= retry_after <= 30


async def test_concurrent_requests_renew_a_lease_once() -> None:
    storage = CountedStorage(delay=0.01)
    limit = RateLimit(storage, name="t", limit="l", setting="--s", allowed="a", amount=1000 * 5, window_seconds=5)
    assert await asyncio.gather(*[limit.take("client") for _ in range(50)]) == [None] * 50
    assert storage.calls == 1  # not one per waiting request: each would take (and waste) a lease


async def test_batches_larger_than_a_lease_are_counted_once() -> None:
    limit = RateLimit(MemoryStorage(), name="t", limit="l", setting="--s", allowed="a", amount=25_000,
                      window_seconds=5)
    taken = 0
    while await limit.take("stream", 1000) is None:  # a lease is 500: each batch tops it up
        taken += 1000
    assert taken >= 24_000  # what a lease leaves is spent by the next batch, not counted twice


def test_every_limit_is_a_flag_and_the_cli_refuses_a_negative_one(capsys: pytest.CaptureFixture[str]) -> None:
    from dashboard.cli import _build_parser

    args = _build_parser().parse_args(
        ["serve", "--stream-entries-per-second", "0", "--stream-bytes-per-second", "1", "--client-requests-per-second",
         "2", "--burst-seconds", "3", "--client-streams-per-hour", "4", "--viewers-per-stream", "5",
         "--viewers-per-client", "6", "--levels-per-stream", "7", "--programs-per-stream", "8",
         "--trust-x-forwarded-for"])
    settings = Settings(**{key: value for key, value in vars(args).items() if key != "command" and value is not None})
    assert (settings.stream_entries_per_second, settings.stream_bytes_per_second, settings.client_requests_per_second,
            settings.burst_seconds, settings.client_streams_per_hour, settings.viewers_per_stream,
            settings.viewers_per_client, settings.levels_per_stream, settings.programs_per_stream,
            settings.trust_x_forwarded_for) == (0, 1, 2, 3, 4, 5, 6, 7, 8, True)
    assert main(["serve", "--viewers-per-client", "-1"]) == 2
    assert "viewers_per_client" in capsys.readouterr().err


async def test_an_hourly_limit_allows_its_whole_amount_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new stream now and then: every one of the hour's allowance is usable, not half of it."""
    import time as real_time

    from dashboard import rate_limit

    clock = [1000.0]

    class Clock:
        monotonic = staticmethod(lambda: clock[0])
        time = staticmethod(real_time.time)

    monkeypatch.setattr(rate_limit, "time", Clock)
    limit = RateLimit(MemoryStorage(), name="hourly", limit="streams per hour per client",
                      setting="--client-streams-per-hour", allowed="10 per hour", amount=10, window_seconds=3600)
    for n in range(10):
        clock[0] += 2 * rate_limit.LEASE_SECONDS  # each well after the last one's lease would have lapsed
        assert await limit.take("client") is None, f"stream {n + 1} of 10 refused"
    clock[0] += 2 * rate_limit.LEASE_SECONDS
    assert await limit.take("client") is not None


def test_a_folded_name_is_kept_over_a_field_of_the_same_name() -> None:
    caps = NameCaps(levels=1, programs=0)
    first, second = caps.fold(STREAM, [LogEntry(message="a", timestamp=0.0, level="ONE"),
                                       LogEntry(message="b", timestamp=0.0, level="TWO",
                                                fields_json=b'{"level":"forged"}')])
    assert first.level == "ONE"
    assert (second.level, second.fields()) == (OTHER_LEVEL, {"level": "TWO"})

"""Rate limits that hold across processes: `limits`' sliding window counters, taken in leases.

Every process keeps its windows in the same storage (Redis, or this process's memory on the
memory bus), so a limit holds however many processes share the work. A request does not ask the
storage each time: a process takes a small *lease* of the limit at once (a tenth of what the limit
allows per second) and spends it locally for about `LEASE_SECONDS` (a request the lease cannot
cover tops it up), so a busy key costs one storage call per lease, not one per request. What a
lease leaves unspent is counted all the same: a process may refuse a key slightly early (by at most
a tenth of its rate), and lets through no more than the window allows, give or take one lease.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from starlette.responses import JSONResponse

from .http_errors import error_response
from .stream import BusUnavailable

LEASE_SECONDS = 1.0
# A lease is this share of what the limit allows in LEASE_SECONDS.
LEASE_SHARE = 0.1
_STORAGE_KEY_PREFIX = "bunnylogs:limits"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused: which limit, the setting that sets it, and when to try again."""

    limit: str  # e.g. "entries per second per stream"
    setting: str  # the flag, e.g. "--stream-entries-per-second"
    allowed: str  # the limit's value as a person reads it, e.g. "5000 per second averaged over --burst-seconds 5"
    retry_after: int  # whole seconds

    @property
    def detail(self) -> str:
        """The JSON error's `detail`: what was exceeded and how to change it."""
        return f"limit reached: {self.limit}, {self.allowed} (set by {self.setting}); retry after {self.retry_after} s"

    def response(self) -> JSONResponse:
        """429 with `Retry-After` and the detail."""
        return error_response(429, self.detail, headers={"Retry-After": str(self.retry_after)})


class RefusalCounts:
    """How many requests each limit refused, by the limit's setting, for `/healthz`."""

    def __init__(self) -> None:
        self.by_setting: dict[str, int] = {}

    def add(self, refusal: Refusal) -> Refusal:
        """Count `refusal` and return it."""
        self.by_setting[refusal.setting] = self.by_setting.get(refusal.setting, 0) + 1
        return refusal


def open_storage(redis_url: str | None) -> Storage:
    """Where the windows live: Redis (through redis.asyncio) when there is one, else this process's memory."""
    if redis_url is None:
        return MemoryStorage()  # async+memory://
    # After a Redis restart the pooled connection is dead: its one failure is retried on a new one,
    # not answered 503 (a command that never reached the new server cannot count twice).
    client_options: dict[str, Any] = {"socket_timeout": 5.0, "socket_connect_timeout": 5.0,
                                      "retry": Retry(NoBackoff(), 1), "retry_on_error": [RedisConnectionError]}
    return RedisStorage(f"async+{redis_url}", implementation="redispy", key_prefix=_STORAGE_KEY_PREFIX,
                        wrap_exceptions=True, **client_options)


@dataclass(slots=True)
class _Lease:
    left: int
    until: float  # time.monotonic()


class RateLimit:
    """At most `amount` per `window_seconds` for each key (a stream, a client), counted in `storage`."""

    def __init__(self, storage: Storage, *, name: str, limit: str, setting: str, allowed: str,
                 amount: int, window_seconds: int) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._item = RateLimitItemPerSecond(amount, window_seconds, namespace=name)
        # No lease for a slow limit (e.g. streams per hour): a spare unit would expire unspent after
        # LEASE_SECONDS and stay counted for the whole window, halving what a client may do.
        self._lease_size = int(amount / window_seconds * LEASE_SECONDS * LEASE_SHARE)
        self._leases: dict[str, _Lease] = {}
        self._refused_until: dict[str, float] = {}
        self._renewing: dict[str, asyncio.Future[None]] = {}
        self._limit, self._setting, self._allowed = limit, setting, allowed

    def lease_covers(self, key: str, cost: int, now: float) -> _Lease | None:
        """The lease in hand for `key` if it still covers `cost` (nothing is spent), else None."""
        lease = self._leases.get(key)
        if lease is not None and lease.left >= cost and lease.until > now:
            return lease
        return None

    async def take(self, key: str, cost: int = 1) -> Refusal | None:
        """Spend `cost` of `key`'s allowance: None when allowed, else the refusal to answer with."""
        cost = min(cost, self._item.amount)  # a request larger than the whole window passes on an empty one
        while True:
            now = time.monotonic()
            if (lease := self.lease_covers(key, cost, now)) is not None:
                lease.left -= cost
                return None
            refused_until = self._refused_until.get(key)
            if refused_until is not None:
                if refused_until > now:
                    return self._refusal(refused_until - now)
                del self._refused_until[key]
            renewing = self._renewing.get(key)
            if renewing is None:
                break
            # One renewal per key at a time: the others spend from the lease it brings. Shielded: a waiter
            # cancelled (a request ended at shutdown) must not cancel the renewal's future under it.
            await asyncio.shield(renewing)
        self._renewing[key] = renewed = asyncio.get_running_loop().create_future()
        try:
            return await self._renew(key, cost, now)
        except (StorageError, RedisError, OSError) as error:
            raise BusUnavailable(f"the rate limit storage is unavailable: {error}") from error
        finally:
            del self._renewing[key]
            renewed.set_result(None)

    async def _renew(self, key: str, cost: int, now: float) -> Refusal | None:
        """Top the lease up from the storage (or by just what `cost` lacks, near the limit), or refuse until
        the window frees some."""
        lease = self._leases.get(key)
        carried = lease.left if lease is not None and lease.until > now else 0  # already counted: spend it first
        lacking = cost - carried
        for amount in dict.fromkeys((lacking + self._lease_size, lacking)):
            if await self._limiter.hit(self._item, key, cost=amount):
                if len(self._leases) > 100_000:
                    self._drop_expired(now)
                self._leases[key] = _Lease(carried + amount - cost, now + LEASE_SECONDS)
                return None
        stats = await self._limiter.get_window_stats(self._item, key)
        wait = max(stats.reset_time - time.time(), 0.05)
        if len(self._refused_until) > 100_000:
            self._refused_until.clear()
        self._refused_until[key] = now + wait
        return self._refusal(wait)

    def _refusal(self, wait: float) -> Refusal:
        return Refusal(self._limit, self._setting, self._allowed, retry_after=max(1, math.ceil(wait)))

    def _drop_expired(self, now: float) -> None:
        self._leases = {key: lease for key, lease in self._leases.items() if lease.until > now}

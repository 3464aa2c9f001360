"""What one client and one stream may send: the rate limits of ingest, and the cap on a stream's names.

`IngestLimits` answers, for a request: may this client send now (requests per second), may this
stream take these entries and bytes now, may this client start sending to another stream this
hour. Each is a `RateLimit` in storage shared by every process, and a setting of 0 turns it off.
`NameCaps` keeps the distinct levels and programs of a stream under their caps by folding new ones
into a catch-all, so that a buggy sender cannot make thousands of chips in every viewer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable

from limits.aio.storage import Storage

from .entry import LogEntry, json_text
from .protocol import DEFAULT_PROGRAM, LEVEL_RANKS
from .rate_limit import RateLimit, Refusal, RefusalCounts
from .settings import Settings

OTHER_LEVEL = "OTHER"
OTHER_PROGRAM = "other"
_HOUR_S = 3600
# Streams remembered per process (each with its names, or a client's first send to it this hour).
_MAX_REMEMBERED = 100_000


class IngestLimits:
    """The rate limits a POST passes before its entries reach the bus, with the refusals they made."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.refusals = RefusalCounts()
        self.trust_forwarded_for = settings.trust_x_forwarded_for
        burst = settings.burst_seconds
        self._client_requests = _per_second(storage, "client-requests", "requests per second per client",
                                            "--client-requests-per-second", settings.client_requests_per_second, burst)
        self._stream_entries = _per_second(storage, "stream-entries", "entries per second per stream",
                                           "--stream-entries-per-second", settings.stream_entries_per_second, burst)
        self._stream_bytes = _per_second(storage, "stream-bytes", "bytes per second per stream",
                                         "--stream-bytes-per-second", settings.stream_bytes_per_second, burst)
        per_hour = settings.client_streams_per_hour
        self._client_streams = RateLimit(
            storage, name="client-streams", limit="streams per client per hour", setting="--client-streams-per-hour",
            allowed=f"{per_hour} per hour", amount=per_hour, window_seconds=_HOUR_S) if per_hour else None
        self._streams_sent_to: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.names = NameCaps(levels=settings.levels_per_stream, programs=settings.programs_per_stream)

    def check_client(self, client: str) -> Awaitable[Refusal | None] | None:
        """Before reading a request's body, may `client` send a request now?

        None when the lease in hand says yes (no await on the hot path); else what to await for the answer.
        """
        requests = self._client_requests
        if requests is None:
            return None
        if (lease := requests.lease_covers(client, 1, time.monotonic())) is not None:
            lease.left -= 1
            return None
        return self._counted(requests.take(client))

    def check_stream(self, stream_id: str, client: str, entries: int, size: int) -> Awaitable[Refusal | None] | None:
        """Once a request is parsed, may `stream_id` take `entries` entries in `size` bytes from `client`?

        None when the leases in hand cover all of it (then spent); else what to await for the answer.
        """
        now = time.monotonic()
        by_entries = by_bytes = None
        if self._stream_entries is not None and (
                by_entries := self._stream_entries.lease_covers(stream_id, entries, now)) is None:
            return self._counted(self._take_stream(stream_id, client, entries, size))
        if self._stream_bytes is not None and (
                by_bytes := self._stream_bytes.lease_covers(stream_id, size, now)) is None:
            return self._counted(self._take_stream(stream_id, client, entries, size))
        if self._client_streams is not None and not self._sent_to_this_hour(client, stream_id, now):
            return self._counted(self._take_stream(stream_id, client, entries, size))
        if by_entries is not None:
            by_entries.left -= entries
        if by_bytes is not None:
            by_bytes.left -= size
        return None

    async def _take_stream(self, stream_id: str, client: str, entries: int, size: int) -> Refusal | None:
        if self._stream_entries is not None and (refusal := await self._stream_entries.take(stream_id, entries)):
            return refusal
        if self._stream_bytes is not None and (refusal := await self._stream_bytes.take(stream_id, size)):
            return refusal
        if self._client_streams is not None:
            return await self._check_new_stream(stream_id, client)
        return None

    async def _counted(self, check: Awaitable[Refusal | None]) -> Refusal | None:
        refusal = await check
        return refusal and self.refusals.add(refusal)

    def _sent_to_this_hour(self, client: str, stream_id: str, now: float) -> bool:
        first = self._streams_sent_to.get((client, stream_id))
        return first is not None and now - first < _HOUR_S

    async def _check_new_stream(self, stream_id: str, client: str) -> Refusal | None:
        """The first send of `client` to `stream_id` this hour (in this process) counts as one of its streams."""
        assert self._client_streams is not None
        now = time.monotonic()
        if self._sent_to_this_hour(client, stream_id, now):
            return None
        refusal = await self._client_streams.take(client)
        if refusal is None:
            pair = (client, stream_id)
            self._streams_sent_to[pair] = now
            self._streams_sent_to.move_to_end(pair)
            if len(self._streams_sent_to) > _MAX_REMEMBERED:
                self._streams_sent_to.popitem(last=False)
        return refusal


def _per_second(storage: Storage, name: str, limit: str, setting: str, rate: int, burst: int) -> RateLimit | None:
    """`rate` per second on average over `burst` seconds (so `rate * burst` at once), or None for 0 (no limit)."""
    if not rate:
        return None
    return RateLimit(storage, name=name, limit=limit, setting=setting, amount=rate * burst, window_seconds=burst,
                     allowed=f"{rate} per second averaged over --burst-seconds {burst}")


class NameCaps:
    """At most `levels` custom levels and `programs` programs per stream (in this process); 0 turns a cap off.

    The standard levels and the default program always pass. A new name past its cap becomes
    `OTHER` (level) or `other` (program), and the name it had is kept in the entry's fields, as
    `level` or `program`, where the text filter finds it.
    """

    def __init__(self, *, levels: int, programs: int) -> None:
        self._max_levels = levels
        self._max_programs = programs
        self._streams: OrderedDict[str, tuple[set[str], set[str]]] = OrderedDict()
        self.folded = 0

    def fold(self, stream_id: str, entries: list[LogEntry]) -> list[LogEntry]:
        """`entries`, with the levels and programs that are over their caps folded into the catch-all."""
        if not (self._max_levels or self._max_programs):
            return entries
        names = self._streams.get(stream_id)
        if names is None:
            names = self._streams[stream_id] = (set(), set())
            if len(self._streams) > _MAX_REMEMBERED:
                self._streams.popitem(last=False)
        levels, programs = names
        folded: list[LogEntry] | None = None
        for index, entry in enumerate(entries):
            level_ok = entry.level in LEVEL_RANKS or entry.level in levels or _admit(levels, entry.level,
                                                                                   self._max_levels)
            program_ok = entry.program == DEFAULT_PROGRAM or entry.program in programs or _admit(
                programs, entry.program, self._max_programs)
            if level_ok and program_ok:
                continue
            if folded is None:
                folded = entries.copy()
            folded[index] = _folded(entry, level_ok=level_ok, program_ok=program_ok)
            self.folded += 1
        return entries if folded is None else folded


def _admit(names: set[str], name: str, cap: int) -> bool:
    if not cap:
        return True  # no cap: nothing to remember either
    if len(names) >= cap:
        return False
    names.add(name)
    return True


def _folded(entry: LogEntry, *, level_ok: bool, program_ok: bool) -> LogEntry:
    original = {} if level_ok else {"level": entry.level}
    if not program_ok:
        original["program"] = entry.program
    return entry._replace(level=entry.level if level_ok else OTHER_LEVEL,
                          program=entry.program if program_ok else OTHER_PROGRAM,
                          fields_json=json_text({**(entry.fields() or {}), **original}))  # the real name wins

"""A background thread that ships encoded entries in batches, and never makes its caller wait.

`put()` only appends to a bounded queue. The thread sends one request at a time, and starts two
at least `interval` apart (default 20 ms: at most 50 requests a second per sender, a quarter of the
server's per-client limit): an entry that comes after a quiet spell leaves at once, and what comes
while a request is out or within the interval goes together in the next, so batches grow with the
load, up to `batch_size` entries. It retries network errors, 5xx, 408 and 429 with exponential
backoff and jitter (honouring `Retry-After`), and drops batches the server refuses for good. Each
batch carries an `Idempotency-Key`, the same on every try of it: a batch the server stored before
its answer was lost (a process killed in between, a proxy's 502) is not stored twice.
When the queue is full the oldest entries go; once sending works again, one WARNING entry says
how many were lost.
"""

from __future__ import annotations

import collections
import contextlib
import email.utils
import html
import http.client
import json
import math
import os
import random
import re
import socket
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable

from ..protocol import BATCH_KEY_HEADER, MAX_BATCH_ENTRIES, MAX_BODY_BYTES
from .entries import encode_entry
from .printable import printable
from .urls import http_url_parts

BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 5.0
RETRY_AFTER_MAX_S = 60.0
FULL_TOLD_EVERY_S = 10.0  # a queue that stays full is said again this often at most
USER_AGENT = "bunnylogs-client/1"
_BODY_BUDGET = MAX_BODY_BYTES - 1024  # room for the brackets and commas


def print_problem(text: str) -> None:
    """The default problem reporter: one line on stderr."""
    print(f"bunnylogs: {text}", file=sys.stderr, flush=True)


class BatchSender:
    """Queues encoded entries and sends them to one stream's `/live/<uuid>` URL from a daemon thread."""

    def __init__(self, url: str, *, batch_size: int = MAX_BATCH_ENTRIES, interval: float = 0.02,
                 capacity: int = 200_000, capacity_bytes: int = 64 * 1024 * 1024, timeout: float = 5.0,
                 program: str = "bunnylogs", on_problem: Callable[[str], None] | None = print_problem) -> None:
        if not 1 <= batch_size <= MAX_BATCH_ENTRIES:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_ENTRIES}")
        if capacity < batch_size:
            raise ValueError("capacity must be at least batch_size")
        parts = http_url_parts(url)
        self.url = url
        self._parts = parts
        self._batch_size = batch_size
        self._interval = interval
        self._last_start = float("-inf")  # when the last request started (monotonic seconds)
        self._capacity = capacity
        self._capacity_bytes = capacity_bytes
        self._queued_bytes = 0
        self._timeout = timeout
        self._program = program
        self._on_problem = on_problem
        self._queue: collections.deque[bytes] = collections.deque()
        self._lock = threading.Condition()
        self._in_flight = 0
        self._in_flight_reports = 0  # of those, reports of drops
        # The batch being retried: the first `_retry_count` entries of the queue, sent again under its key.
        self._retry_key = ""
        self._retry_count = 0
        # Whether the last try of that batch went out and no answer came (it may have been stored), as
        # opposed to a connection refused or an error status.
        self._retry_unanswered = False
        self._last_try_unanswered = False
        self._unreported_losses = 0
        # The WARNING entries that tell the stream of drops, queued or out, and the drops each tells of.
        self._loss_reports: list[_LossReport] = []
        self._lost_told = 0  # the drops said on stderr so far, and when
        self._full_told_at = -math.inf
        self._urgent = False  # a flush or close wants the queue emptied now
        self._closing = False
        self._thread: threading.Thread | None = None
        self._connection: http.client.HTTPConnection | None = None
        self._reported: set[str] = set()
        self.sent = 0
        self.batches_sent = 0  # requests that delivered a batch
        self.lost = 0
        self.rejected = 0
        self.retries = 0
        _SENDERS.add(self)

    @property
    def thread_ident(self) -> int | None:
        """The sending thread's ident, so a log handler can ignore records logged from it."""
        return self._thread.ident if self._thread is not None else None

    def put(self, encoded_entry: bytes) -> None:
        """Queue one entry (JSON bytes); drop the oldest if the queue is full. Never blocks on the network."""
        with self._lock:
            if self._closing:
                return
            self._ensure_thread()
            if len(self._queue) >= self._capacity:
                self._drop_oldest(1)
            self._queue.append(encoded_entry)
            self._queued_bytes += len(encoded_entry)
            if self._queued_bytes > self._capacity_bytes:
                self._drop_oldest_bytes()
            # Wake the thread for the first entry (sent at once when nothing is out) and for a full batch.
            if len(self._queue) == 1 or len(self._queue) >= self._batch_size:
                self._lock.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is sent or dropped, or `timeout` passes; True if all went."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if self._thread is None:
                return not self._queue
            self._urgent = True
            self._lock.notify_all()
            try:
                while self._queue or self._in_flight:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._lock.wait(remaining)
                return True
            finally:
                self._urgent = self._closing

    def close(self, timeout: float | None = None) -> bool:
        """Flush for up to `timeout`, then stop the thread; True if nothing was left unsent."""
        flushed = self.flush(timeout)
        with self._lock:
            self._closing = True
            self._lock.notify_all()
            retried = self._retry_count if self._retry_unanswered else 0
            # Of what is queued, the reports of drops are not the program's records.
            queued = list(self._queue)
            left = len(queued) - retried - self._reports_among(queued[retried:])
            unanswered = (self._in_flight - self._in_flight_reports + retried
                          - self._reports_among(queued[:retried]))
            untold = self._unreported_losses + sum(report.count for report in self._loss_reports
                                                   if not report.maybe_heard)
        if not flushed and (left or unanswered):
            self._report("unsent", _unsent_text(left, unanswered, untold))
        return flushed

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bunnylogs-sender", daemon=True)
            self._thread.start()

    def _start_over_after_fork(self) -> None:
        """In a forked child: the parent sends what it had queued, and its thread and lock are not
        this process's (the lock may even be held by a thread that does not exist here)."""
        self._lock = threading.Condition()
        self._queue.clear()
        self._queued_bytes = self._in_flight = self._retry_count = self._unreported_losses = self._lost_told = 0
        self._in_flight_reports = 0
        self._loss_reports = []
        self._full_told_at = -math.inf
        self._retry_key = ""
        self._urgent = self._retry_unanswered = self._last_try_unanswered = False
        self._thread = self._connection = None
        self._reported = set()

    def _drop_oldest(self, count: int) -> None:
        for _ in range(count):
            dropped = self._queue.popleft()
            self._queued_bytes -= len(dropped)
            report = self._take_loss_report(dropped)
            if report is None:
                self._count_lost(1)
            elif not report.maybe_heard:  # not a record: what it tells of waits for the next report
                self._unreported_losses += report.count
        self._retry_count = max(self._retry_count - count, 0)

    def _take_loss_report(self, encoded: bytes) -> _LossReport | None:
        """If `encoded` is a WARNING entry that tells of drops, forget it and return it."""
        for index, report in enumerate(self._loss_reports):
            if report.encoded is encoded:
                del self._loss_reports[index]
                return report
        return None

    def _reports_among(self, entries: list[bytes]) -> int:
        """How many of `entries` are WARNING entries that tell of drops."""
        if not self._loss_reports:
            return 0
        reports = {id(report.encoded) for report in self._loss_reports}
        return sum(1 for encoded in entries if id(encoded) in reports)

    def _drop_oldest_bytes(self) -> None:
        """Drop the oldest entries until the queue is within its bytes (the newest entry stays)."""
        excess = 0
        freed = 0
        for encoded in self._queue:
            if self._queued_bytes - freed <= self._capacity_bytes or excess == len(self._queue) - 1:
                break
            freed += len(encoded)
            excess += 1
        self._drop_oldest(excess)

    def _count_lost(self, count: int) -> None:
        self.lost += count
        self._unreported_losses += count

    def _run(self) -> None:
        failures = 0
        while True:
            taken = self._next_batch()
            if taken is None:
                return
            batch, key = taken
            outcome, retry_after = self._send(batch, key)
            with self._lock:
                self._in_flight = self._in_flight_reports = 0
                if outcome == "retry":
                    self._retry_key, self._retry_count = key, len(batch)  # before a full queue drops some
                    self._retry_unanswered = self._last_try_unanswered
                    if self._last_try_unanswered:  # the server may have stored its reports of drops
                        self._mark_maybe_heard(batch)
                    self._requeue(batch)
                else:
                    self._settle(batch, outcome)
                self._lock.notify_all()
                lost = self.lost
            self._tell_drops(lost)
            if outcome == "retry":
                self.retries += 1
                failures += 1
                # Never sooner than the back-off: a `Retry-After: 0` (or a date past) made this a busy loop.
                delay = max(retry_after or 0.0, backoff(failures, BACKOFF_FIRST_S, BACKOFF_MAX_S))
                retry_at = time.monotonic() + delay
                with self._lock:
                    # Waited whole: every entry logged meanwhile wakes the lock once a batch is full, and
                    # each wake was a retry (430 requests a second to a server that had asked for 10 s).
                    while not self._closing and (remaining := retry_at - time.monotonic()) > 0:
                        self._lock.wait(remaining)
                    if self._closing:  # close() gave up waiting; what is left stays unsent
                        return
            else:
                failures = 0

    def _next_batch(self) -> tuple[list[bytes], str] | None:
        """The next batch to send and its key: the one being retried, unchanged, or a new one."""
        with self._lock:
            while not self._queue:
                if self._closing:
                    return None
                self._lock.wait()
            if self._retry_count:
                retried = [self._queue.popleft() for _ in range(self._retry_count)]
                self._queued_bytes -= sum(len(encoded) for encoded in retried)
                self._retry_count = 0
                self._in_flight, self._in_flight_reports = len(retried), self._reports_among(retried)
                self._last_start = time.monotonic()
                return retried, self._retry_key
            # The next request starts `interval` after the last one at the earliest (at once after a
            # quiet spell); until then the batch fills, unless someone is waiting for it.
            deadline = self._last_start + self._interval
            while len(self._queue) < self._batch_size and not self._urgent and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            batch: list[bytes] = []
            size = 0
            while self._queue and len(batch) < self._batch_size:
                if batch and size + len(self._queue[0]) + 1 > _BODY_BUDGET:
                    break
                encoded = self._queue.popleft()
                batch.append(encoded)
                size += len(encoded) + 1
            self._queued_bytes -= size - len(batch)
            self._in_flight, self._in_flight_reports = len(batch), self._reports_among(batch)
            self._last_start = time.monotonic()
            return batch, uuid.uuid4().hex

    def _requeue(self, batch: list[bytes]) -> None:
        """Put a batch that will be retried back in front, still within the capacity (oldest dropped first)."""
        self._queue.extendleft(reversed(batch))
        self._queued_bytes += sum(len(encoded) for encoded in batch)
        excess = len(self._queue) - self._capacity
        if excess > 0:
            self._drop_oldest(excess)
        if self._queued_bytes > self._capacity_bytes:
            self._drop_oldest_bytes()

    def _tell_drops(self, lost: int) -> None:
        """Say that the full queue drops entries, at most every FULL_TOLD_EVERY_S while it goes on (also while a
        slow server takes some). Said from this thread: the program that logs never waits on stderr."""
        now = time.monotonic()
        if lost <= self._lost_told or now - self._full_told_at < FULL_TOLD_EVERY_S:
            return
        self._lost_told, self._full_told_at = lost, now
        self._tell(f"the queue is full ({self._capacity:,} entries or {_size_text(self._capacity_bytes)}): {lost:,} "
                   f"dropped so far, the oldest first, until {self.url} takes entries as fast as they come")

    def _settle(self, batch: list[bytes], outcome: str) -> None:
        # A report in the batch has told the stream, or (refused, and never out without an answer) never
        # will: then the next one tells of it. Reports are not the program's records, sent or refused.
        reports = 0
        if self._loss_reports:
            for encoded in batch:
                report = self._take_loss_report(encoded)
                if report is None:
                    continue
                reports += 1
                if outcome != "sent" and not report.maybe_heard:
                    self._unreported_losses += report.count
        if outcome == "sent":
            self.sent += len(batch) - reports
            self.batches_sent += 1
            if self._unreported_losses:
                encoded = self._loss_report(self._unreported_losses)
                self._loss_reports.append(_LossReport(encoded, self._unreported_losses))
                self._queue.appendleft(encoded)
                self._queued_bytes += len(encoded)
                self._unreported_losses = 0
        else:
            self.rejected += len(batch) - reports

    def _mark_maybe_heard(self, batch: list[bytes]) -> None:
        """The reports of drops in `batch`, sent with no answer, may have reached the stream."""
        for report in self._loss_reports:
            if any(encoded is report.encoded for encoded in batch):
                report.maybe_heard = True

    def _loss_report(self, count: int) -> bytes:
        message = (f"BunnyLogs client dropped {count:,} log entr{'y' if count == 1 else 'ies'}: its queue (at most "
                   f"{self._capacity:,} entries and {_size_text(self._capacity_bytes)}) was full while the "
                   "server could not be reached")
        return encode_entry(message, level="WARNING", program=self._program, timestamp=time.time(),
                            fields={"bunnylogs_lost": count})

    def _send(self, batch: list[bytes], key: str) -> tuple[str, float | None]:
        """POST one batch under `key`: ("sent" | "rejected" | "retry", seconds the server asked to wait)."""
        body = b"[" + b",".join(batch) + b"]"
        try:
            try:
                response = self._post(body, key)
            except (ConnectionError, http.client.RemoteDisconnected):
                # The server may have closed our idle keep-alive connection: one fresh try before reporting.
                self._drop_connection()
                response = self._post(body, key)
            detail = response.read(4096).decode(errors="replace")
            if not response.isclosed():  # a longer body, not read: the connection cannot carry the next request
                self._drop_connection()
        except (OSError, http.client.HTTPException) as error:
            self._drop_connection()
            self._last_try_unanswered = not isinstance(error, (ConnectionRefusedError, socket.gaierror))
            self._report("unreachable", f"cannot reach {self.url} ({error or type(error).__name__}); retrying")
            return "retry", None
        except Exception as error:  # anything else must not end the thread: nothing would send again
            self._drop_connection()
            self._last_try_unanswered = False
            self._report("failed", f"cannot send to {self.url} ({type(error).__name__}: {error}); retrying")
            return "retry", None
        if response.will_close:
            self._drop_connection()
        status = response.status
        if 200 <= status < 300:
            self._reported.clear()  # report the next outage again
            return "sent", None
        self._last_try_unanswered = False
        if status in _RETRIED_STATUSES or status >= 500:
            self._report(f"status {status}", f"{self.url} answered {status} ({error_detail(detail, status)}); retrying")
            return "retry", _retry_after(response.getheader("Retry-After"))
        if 300 <= status < 400:
            where = printable(response.getheader("Location") or "nowhere")
            why = f"a redirect to {where}, not followed for log entries (give that address instead)"
        else:
            why = error_detail(detail)
        self._report(f"status {status}", f"{self.url} refused log entries with {status}, dropping them: {why}")
        return "rejected", None

    def _post(self, body: bytes, key: str) -> http.client.HTTPResponse:
        connection = self._connect()
        connection.request("POST", self._path(), body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, BATCH_KEY_HEADER: key})
        return connection.getresponse()

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            connection_type = (http.client.HTTPSConnection if self._parts.scheme == "https"
                               else http.client.HTTPConnection)
            # The port always given: http.client would read an IPv6 host's last group as the port.
            port = self._parts.port or (443 if self._parts.scheme == "https" else 80)
            self._connection = connection_type(self._parts.hostname or "", port, timeout=self._timeout)
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _path(self) -> str:
        return self._parts.path + (f"?{self._parts.query}" if self._parts.query else "")

    def _report(self, key: str, text: str) -> None:
        """Tell the user about a problem once until sending works again (not once per retry)."""
        if key in self._reported:
            return
        self._reported.add(key)
        self._tell(text)

    def _tell(self, text: str) -> None:
        if self._on_problem is None:
            return
        with contextlib.suppress(Exception):  # reporting must not stop sending
            self._on_problem(text)


# Every sender alive in this process, to start over in a forked child.
_SENDERS: weakref.WeakSet[BatchSender] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for sender in list(_SENDERS):
        sender._start_over_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def backoff(failures: int, first: float, most: float) -> float:
    """Seconds to wait after `failures` failures in a row: doubling from `first` up to `most`, with jitter."""
    ceiling = min(most, first * 2 ** min(failures - 1, 16))
    return random.uniform(ceiling / 2, ceiling)


# Too many requests, and a request timeout (the server cut a body that came too slowly): try again.
_RETRIED_STATUSES = frozenset({408, 429})


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), within reason."""
    if not value:
        return None
    if value.strip().isascii() and value.strip().isdigit():
        seconds = float(value.strip())
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


def error_detail(body: str | bytes, status: int | None = None) -> str:
    """The `detail` of a BunnyLogs JSON error body, an HTML page's title (a proxy's or a page's answer, not
    the stream's: with a 502, 503 or 504 `status`, a proxy's whose server is away), or the start of the body
    on one line."""
    try:
        return _one_line(str(json.loads(body)["detail"]))
    except (ValueError, KeyError, TypeError, RecursionError):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        if _HTML_START.match(text):
            title = _HTML_TITLE.search(text)
            named = f" titled '{_one_line(html.unescape(title[1]))[:200]}'" if title else ""
            if status in _PROXY_STATUSES:
                return f"an HTML page{named}: a proxy's, whose server behind it is down or restarting"
            return f"an HTML page{named}, not an answer from a stream's URL: is the URL right?"
        return _one_line(text)[:200] or "no detail"


class _LossReport:
    """A WARNING entry that tells the stream of `count` drops (`encoded`), queued or out; `maybe_heard` once
    a try of it went out and no answer came: if it is dropped after that, its drops are not told again."""

    __slots__ = ("count", "encoded", "maybe_heard")

    def __init__(self, encoded: bytes, count: int) -> None:
        self.encoded = encoded
        self.count = count
        self.maybe_heard = False


_PROXY_STATUSES = frozenset({502, 503, 504})
_HTML_START = re.compile(r"\s*<(?:!doctype|html|head|body|title|h1|center)\b", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>([^<]*)</title", re.IGNORECASE)


def _one_line(text: str) -> str:
    """The start of `text` on one line, escaped as tail escapes log text (`printable`): a server's escape
    sequences and bidirectional overrides reach a terminal."""
    return printable(" ".join(text[:4096].split()))


def _size_text(size: int) -> str:
    """A byte count as people read it: 64 MiB, 1.96 MiB, 256 KiB, 100 bytes."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if round(size / scale, 2) >= 1:
            return f"{size / scale:,.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size:,} byte{'' if size == 1 else 's'}"


def _unsent_text(left: int, unanswered: int, lost: int) -> str:
    """What closing left undone: entries never sent, entries sent whose answer never came, and those dropped
    from the full queue (`lost`) before."""
    parts = []
    if left:
        parts.append(f"{left:,} log entr{'y was' if left == 1 else 'ies were'} not sent before closing: "
                     f"the server did not take {'it' if left == 1 else 'them'} in time")
    if unanswered:
        what = "more" if left else f"log entr{'y' if unanswered == 1 else 'ies'}"
        parts.append(f"{unanswered:,} {what} {'was' if unanswered == 1 else 'were'} sent but not answered before "
                     f"closing: the server may or may not have stored {'it' if unanswered == 1 else 'them'}")
    if lost:
        parts.append(f"{lost:,} {'more ' if parts else ''}{'was' if lost == 1 else 'were'} dropped before, "
                     "because the queue was full")
    return "; ".join(parts)

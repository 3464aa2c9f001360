"""`BunnyLogsHandler`: Python `logging` to a BunnyLogs stream, without ever slowing or crashing the program."""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

from ..protocol import MAX_BATCH_ENTRIES, is_level_name
from .entries import encode_entry
from .sender import BatchSender, print_problem
from .urls import sending_url

# Everything a LogRecord has of its own; any other attribute came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _level_of(record: logging.LogRecord) -> str | int:
    """The record's level name, or its number where the name is none a server takes ("Level 99", "AUDIT LOG")."""
    return record.levelname if is_level_name(record.levelname) else record.levelno


def _default_program() -> str:
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return script.removesuffix(".py") or "python"


class BunnyLogsHandler(logging.Handler):
    """Sends log records to `url` (`http://host:port/live/<uuid>`, or the stream's page URL) in batches
    from a background thread. A URL that names no stream, or a read-only link, raises `ValueError`
    (`BadStreamUrl`).

    `emit()` formats the record and queues it; it never waits for the network and never raises.
    Records carry their level, `program`, the formatted message (with the traceback of
    `exc_info`), `record.created` as the timestamp, and `extra=` values as fields.
    """

    def __init__(self, url: str, program: str | None = None, level: int | str = logging.NOTSET, *,
                 batch_size: int = MAX_BATCH_ENTRIES, interval: float = 0.02, capacity: int = 200_000,
                 capacity_bytes: int = 64 * 1024 * 1024, exit_timeout: float = 2.0, timeout: float = 5.0,
                 report_problems: bool = True) -> None:
        super().__init__(level)
        # The entry has its own level, time and program: the message is just the message (and traceback).
        # Set here so that logging.basicConfig(handlers=[...]) does not impose its "LEVEL:name:" format.
        self.setFormatter(logging.Formatter("%(message)s"))
        self.program = program or _default_program()
        self.exit_timeout = exit_timeout
        self.sender = BatchSender(sending_url(url), batch_size=batch_size, interval=interval,
                                  capacity=capacity, capacity_bytes=capacity_bytes, timeout=timeout,
                                  program=self.program,
                                  on_problem=print_problem if report_problems else None)
        self._closed = False
        # `sender.sent` when a flush last ran out of time; logging's exit calls flush() then close(),
        # and close() must not wait a second time for a server that did not answer the first.
        self._stalled_at: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record; problems are reported by `handleError`, never raised."""
        # Anything logged while the sender thread works (e.g. by a library it calls) would feed itself.
        if threading.get_ident() == self.sender.thread_ident:
            return
        try:
            self.sender.put(encode_entry(self.format(record), level=_level_of(record), program=self.program,
                                         timestamp=record.created, fields=self._fields(record)))
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        """Wait until queued records are sent, for at most `timeout` seconds (default `exit_timeout`)."""
        flushed = self.sender.flush(self.exit_timeout if timeout is None else timeout)
        self._stalled_at = None if flushed else self.sender.sent
        return flushed

    def close(self) -> None:
        """Send what is queued (for at most `exit_timeout`), then stop. logging calls this at exit."""
        if not self._closed:
            self._closed = True
            stalled = self._stalled_at is not None and self._stalled_at == self.sender.sent
            self.sender.close(0 if stalled else self.exit_timeout)
        super().close()

    @property
    def lost(self) -> int:
        """Records dropped because the queue was full."""
        return self.sender.lost

    @property
    def rejected(self) -> int:
        """Records the server refused (4xx other than 429) and that were dropped."""
        return self.sender.rejected

    @staticmethod
    def _fields(record: logging.LogRecord) -> dict[str, Any] | None:
        fields = {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
        if record.name != "root":
            fields.setdefault("logger", record.name)
        return fields or None

"""`bunnylogs pipe`: each line of standard input becomes an entry, sent in batches."""

from __future__ import annotations

import sys
import time
from typing import BinaryIO, TextIO

from .entries import encode_entry
from .sender import BatchSender, print_problem

INTERRUPT_FLUSH_S = 2.0


def pipe(url: str, *, level: str | int, program: str, tee: bool, wait_seconds: float,
         source: BinaryIO | None = None, echo: TextIO | None = None) -> int:
    """Send `source` (default stdin) line by line until EOF, then wait up to `wait_seconds` for it all to go.

    Returns the exit status: 0 when every line was delivered, 1 otherwise (each loss is reported).
    """
    source = source or sys.stdin.buffer
    echo = echo or sys.stdout
    sender = BatchSender(url, program=program)
    try:
        # readline, not iteration: each line goes as soon as it arrives, as with `tail -f`.
        for raw_line in iter(source.readline, b""):
            text = raw_line.decode(errors="replace")
            if tee:
                echo.write(text)
                echo.flush()
            message = text.rstrip("\r\n")
            if message.strip():
                sender.put(encode_entry(message, level=level, program=program, timestamp=time.time()))
    except KeyboardInterrupt:
        delivered = sender.close(INTERRUPT_FLUSH_S)
        return 130 if delivered else 1
    delivered = sender.close(wait_seconds)
    if sender.rejected or sender.lost:
        print_problem(f"{sender.sent:,} lines sent, {sender.rejected:,} refused by the server, "
                      f"{sender.lost:,} dropped because the queue was full")
    return 0 if delivered and not sender.rejected and not sender.lost else 1

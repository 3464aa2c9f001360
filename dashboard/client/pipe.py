"""`bunnylogs pipe`: each line of standard input becomes an entry, sent in batches."""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, TextIO

from ..protocol import MAX_MESSAGE_BYTES
from .entries import encode_entry
from .sender import BatchSender, print_problem

INTERRUPT_FLUSH_S = 2.0
# A line is sent as soon as this much of it came; the rest of a longer line is not sent.
LONG_LINE_BYTES = MAX_MESSAGE_BYTES - 128
LONG_LINE_MARK = " … [line cut at 64 KiB: the rest was not sent]"


def pipe(url: str, *, level: str | int, program: str, tee: bool, wait_seconds: float,
         source: BinaryIO | None = None, echo: TextIO | None = None) -> int:
    """Send `source` (default stdin) line by line until EOF, then wait up to `wait_seconds` for it all to go.

    Returns the exit status: 0 when every line was delivered, 1 otherwise (each loss is reported).
    """
    if source is None and sys.stdin is None:
        print_problem("standard input is closed: nothing to send")
        return 2
    source = source or sys.stdin.buffer
    echo = echo or sys.stdout
    sender = BatchSender(url, program=program)
    with _stopping_on_signals():
        return _send_lines(sender, source, echo, level=level, program=program, tee=tee, wait_seconds=wait_seconds)


def _send_lines(sender: BatchSender, source: BinaryIO, echo: TextIO | None, *, level: str | int, program: str,
                tee: bool, wait_seconds: float) -> int:
    def send(raw: bytes, *, cut: bool = False) -> None:
        # A cut line may end inside a character: that part waits for bytes that will not come.
        text = _utf8_decoder().decode(raw, final=not cut)
        message = text.rstrip("\r\n") + (LONG_LINE_MARK if cut else "")
        if message.strip():
            sender.put(encode_entry(message, level=level, program=program, timestamp=time.time()))

    # --tee copies the bytes as they came where the output takes bytes, else text (a test's StringIO).
    copy = _utf8_decoder()  # the text, across pieces
    try:
        # readline, not iteration: each line goes as soon as it arrives, as with `tail -f`. At most a
        # message's worth at a time: a line without an end was held whole (300 MB took 902 MB).
        held = b""  # a full piece without its line's end: whole or cut, the next piece tells
        skipping = False  # the rest of a line sent cut
        for piece in iter(lambda: source.readline(LONG_LINE_BYTES), b""):
            if tee:
                tee = _copied(piece if _takes_bytes(echo) else copy.decode(piece), echo)
            if skipping:
                skipping = not piece.endswith(b"\n")
            elif held:
                ended = not piece.rstrip(b"\r\n")  # its end, perhaps after more "\r"s, or the input's end
                send(held, cut=not ended)
                held = b""
                skipping = not piece.endswith(b"\n")
            elif len(piece) == LONG_LINE_BYTES and not piece.endswith(b"\n"):
                held = piece
            else:
                send(piece)
        if held:  # the input ended right after it
            send(held)
        if tee and not _takes_bytes(echo) and (rest := copy.decode(b"", final=True)):
            _copied(rest, echo)
        delivered = sender.close(wait_seconds)
    except (KeyboardInterrupt, Stopped) as stop:
        # While reading or waiting: what is queued goes first, for at most a moment. A second signal
        # ends pipe at once, as signals do.
        _set_handlers(dict.fromkeys((signal.SIGINT, *STOP_SIGNALS), signal.SIG_DFL))
        delivered = sender.close(INTERRUPT_FLUSH_S)
        signal_number = stop.signal_number if isinstance(stop, Stopped) else signal.SIGINT
        return 128 + signal_number if delivered else 1
    if sender.rejected or sender.lost:
        print_problem(f"{sender.sent:,} lines sent, {sender.rejected:,} refused by the server, "
                      f"{sender.lost:,} dropped because the queue was full")
    return 0 if delivered and not sender.rejected and not sender.lost else 1


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    """SIGTERM or SIGHUP came (what `kill`, `docker stop` and systemd send): stop as for Ctrl-C."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def _stop(signal_number: int, _frame: object) -> None:
    raise Stopped(signal_number)


@contextlib.contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Stopped` meanwhile (they killed the process, and what was queued was
    lost); the handlers before are put back after."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread has signals
        yield
        return
    before = {signal_number: signal.getsignal(signal_number) for signal_number in (signal.SIGINT, *STOP_SIGNALS)}
    _set_handlers(dict.fromkeys(STOP_SIGNALS, _stop))
    try:
        yield
    finally:
        _set_handlers(before)


def _set_handlers(handlers: Mapping[signal.Signals, Any]) -> None:
    if threading.current_thread() is threading.main_thread():
        for signal_number, handler in handlers.items():
            if handler is not None:  # None: a handler not set from Python, which cannot be put back
                signal.signal(signal_number, handler)


def _utf8_decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


def _takes_bytes(echo: TextIO | None) -> bool:
    return echo is not None and hasattr(echo, "buffer")


def _copied(data: str | bytes, echo: TextIO | None) -> bool:
    """Copy `data` to `echo` (--tee), bytes to its binary buffer; False once it cannot take more (a reader
    like `head` went away).

    The lines still go to the stream: they were read, and sending them is what pipe is for.
    """
    if echo is None:  # standard output closed
        print_problem("standard output is closed: --tee stops copying, the lines are still sent")
        return False
    try:
        if isinstance(data, bytes):
            echo.buffer.write(data)
            echo.buffer.flush()
        else:
            echo.write(data)
            echo.flush()
    except (BrokenPipeError, ValueError):
        # Quietly from now on, also at exit, when Python flushes standard output once more.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), echo.fileno())
        print_problem("standard output was closed: --tee stops copying, the lines are still sent")
        return False
    return True

"""`serve --workers N`: N ingest processes that share one listening socket, under a small supervisor.

The parent binds the port once and starts the workers (spawned, not forked: no event loop or
Redis connection is shared). Each worker runs the ordinary server (`server.run_server`) on that
socket, so it keeps the bounded protocol, its timeouts and limits, and the security headers. The
kernel hands each new connection to one worker. The parent restarts a worker that dies (a crash,
an OOM kill) and stops them all on SIGTERM or SIGINT; a worker also stops when the parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.context import SpawnProcess
from types import FrameType

from .connections import raise_fd_limit
from .settings import Settings

log = logging.getLogger("uvicorn.error")
CHECK_INTERVAL_S = 0.5
STOP_GRACE_S = 10.0
# uvicorn exits with this when its start-up fails (e.g. the bus is unreachable). At start, a restart
# would fail alike; once the workers have served, it means Redis is away for now: try again later.
STARTUP_FAILURE = 3
RESTART_DELAYS_S = (1.0, 2.0, 5.0, 10.0)
START_GRACE_S = 15.0
_PR_SET_PDEATHSIG = 1


def run_workers(settings: Settings) -> int:
    """Serve with `settings.workers` processes until SIGTERM or SIGINT; the exit status."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(message)s")
    raise_fd_limit()  # the workers inherit the raised limit
    try:
        listener = _bind(settings.host, settings.port)
    except OSError as error:
        print(f"bunnylogs: cannot listen on {settings.host}:{settings.port}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    context = multiprocessing.get_context("spawn")
    workers = [_start(context, settings, listener) for _ in range(settings.workers)]
    log.info("BunnyLogs supervisor %d: %d workers on %s:%d", os.getpid(), len(workers), settings.host, settings.port)
    status = 0
    began = time.monotonic()
    failures = 0
    retry_at = 0.0
    while not stopping.wait(CHECK_INTERVAL_S):
        # A worker that fails to start once the others have been serving a while means Redis is away
        # for now (it is checked at start): the others answer 503 meanwhile, and it is tried again.
        serving = time.monotonic() - began > START_GRACE_S
        for slot, worker in enumerate(workers):
            if worker.is_alive():
                continue
            if worker.exitcode == STARTUP_FAILURE and not serving:
                log.error("worker %s could not start; stopping", worker.pid)
                status = 1
                stopping.set()
                break
            if time.monotonic() < retry_at:
                continue
            if worker.exitcode == STARTUP_FAILURE:
                failures += 1
                retry_at = time.monotonic() + RESTART_DELAYS_S[min(failures, len(RESTART_DELAYS_S)) - 1]
            else:
                failures = 0
            log.warning("worker %s exited with %s; starting another", worker.pid, worker.exitcode)
            workers[slot] = _start(context, settings, listener)
    _stop_all(workers)
    listener.close()
    return status


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _start(context: multiprocessing.context.SpawnContext, settings: Settings,
           listener: socket.socket) -> SpawnProcess:
    worker = context.Process(target=_worker_main, args=(settings, listener, os.getpid()),
                             name="bunnylogs-worker", daemon=False)
    worker.start()
    return worker


def _stop_all(workers: list[SpawnProcess]) -> None:
    """SIGTERM every worker (a clean uvicorn shutdown), then SIGKILL what is left after the grace."""
    for worker in workers:
        if worker.is_alive() and worker.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for worker in workers:
        worker.join(max(deadline - time.monotonic(), 0.1))
        if worker.is_alive():
            worker.kill()
            worker.join()


def _worker_main(settings: Settings, listener: socket.socket, parent_pid: int) -> None:
    """One worker: the ordinary server on the shared socket, stopped when the supervisor dies."""
    _die_with_parent(parent_pid)
    from .server import run_server

    # The terminal's Ctrl-C reaches the workers too; the parent stops them.
    with contextlib.suppress(KeyboardInterrupt):
        run_server(settings, sockets=[listener])


def _die_with_parent(parent_pid: int) -> None:
    """Have the kernel send this process SIGTERM when the supervisor dies, even by SIGKILL (Linux)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # it died before the line above took effect
        os.kill(os.getpid(), signal.SIGTERM)

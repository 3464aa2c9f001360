"""A page whose socket stops reading is cut off: the server does not keep what the stream sends it."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
import uuid
from pathlib import Path

from bench.stalled_clients import rss_mib, stalled_page_socket
from harness.servers import running_app

PAGES = 5
FLOOD_POSTS = 60
ENTRIES_PER_POST = 400
ENTRY_BYTES = 2000


def _post(port: int, stream: str, body: bytes) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/live/{stream}", data=body,
                                     headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=30).close()


def _closed_by_server(connection: socket.socket, within_s: float) -> bool:
    """Read what the server sent until it closes (or resets) the connection (True), or until `within_s` (False)."""
    connection.settimeout(within_s)
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline:
            if not connection.recv(1 << 20):
                return True
    except ConnectionResetError:  # closed at once, what was unsent dropped
        return True
    except (TimeoutError, OSError):
        return False
    return False


def _server_ends(port: int) -> set[int]:
    """The peer ports of the TCP connections whose local end is `port` (the server's side), from /proc."""
    peers = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, remote = line.split()[1:3]
            if int(local.rsplit(":", 1)[1], 16) == port:
                peers.add(int(remote.rsplit(":", 1)[1], 16))
    return peers


def test_a_page_that_stops_reading_is_cut_off_and_memory_stays_bounded() -> None:
    with running_app("--stream-entries-per-second", "0", "--stream-bytes-per-second", "0") as app:
        assert app.process is not None
        stream = str(uuid.uuid4())
        pages = [stalled_page_socket(app.port, stream) for _ in range(PAGES)]
        before = rss_mib(app.process.pid)
        body = json.dumps([{"message": "x" * ENTRY_BYTES} for _ in range(ENTRIES_PER_POST)]).encode()
        for _ in range(FLOOD_POSTS):  # 48 MB to the stream: 240 MB more if each stalled page kept it all
            _post(app.port, stream, body)
            time.sleep(0.02)
        with urllib.request.urlopen(f"{app.url}/healthz", timeout=10) as response:
            stored_mib = json.loads(response.read())["stream_bytes"] / 2**20  # the stream itself
        grown = rss_mib(app.process.pid) - before - stored_mib
        assert all(_closed_by_server(page, 20) for page in pages), "a stalled page socket was left open"
        for page in pages:
            page.close()
        assert grown < 60, f"beyond the stream, the server grew by {grown:.0f} MiB for {PAGES} pages that read nothing"
        with urllib.request.urlopen(f"{app.url}/healthz", timeout=10) as response:
            assert json.loads(response.read())["status"] == "ok"


def test_a_cut_off_page_that_reads_nothing_has_its_connection_aborted() -> None:
    # Its connection, closed politely, would wait forever for the peer to take what was sent.
    with running_app("--stream-entries-per-second", "0", "--stream-bytes-per-second", "0") as app:
        stream = str(uuid.uuid4())
        pages = [stalled_page_socket(app.port, stream) for _ in range(3)]
        ports = {page.getsockname()[1] for page in pages}
        body = json.dumps([{"message": "x" * ENTRY_BYTES} for _ in range(ENTRIES_PER_POST)]).encode()
        for _ in range(20):
            _post(app.port, stream, body)
            time.sleep(0.02)

        def held() -> set[int]:
            return _server_ends(app.port) & ports

        deadline = time.monotonic() + 30
        while held() and time.monotonic() < deadline:
            time.sleep(0.5)
        try:
            assert not held(), "the server still holds connections of pages it cut off"
        finally:
            for page in pages:
                page.close()

"""Clients that stop reading: the server's memory must stay bounded.

`python -m bench.stalled_clients` starts a server on the memory bus, fills one stream with large
entries, then opens event streams (`?history=10000`), `/entries?limit=1000` requests and page
sockets that never read a byte after their request, while the stream keeps getting new lines.
It prints the server's resident memory (RSS) over time. The readers' receive buffers are made
small, so what they do not take stays in the server.
"""

from __future__ import annotations

import argparse
import ast
import base64
import json
import os
import socket
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

from harness.servers import running_app

_RECEIVE_BUFFER = 4096


def rss_mib(pid: int) -> float:
    """The process's resident memory in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def stalled_request(port: int, request: bytes) -> socket.socket:
    """A connection that sends `request` and then never reads."""
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
    connection.connect(("127.0.0.1", port))
    connection.sendall(request)
    return connection


def stalled_page_socket(port: int, stream: str) -> socket.socket:
    """A stream page session whose websocket connects (NiceGUI's handshake) and then never reads."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{stream}", timeout=30) as response:
        page = response.read().decode()
    line = next(line for line in page.splitlines() if line.strip().startswith("query: {"))
    query = ast.literal_eval(line.strip().removeprefix("query: ").rstrip(","))
    query = {key: str(value).lower() if isinstance(value, bool) else value for key, value in query.items()}
    query.update(document_id=str(uuid.uuid4()), tab_id=str(uuid.uuid4()), old_tab_id="null", EIO="4",
                 transport="websocket")
    key = base64.b64encode(os.urandom(16)).decode()
    path = f"/_nicegui_ws/socket.io/?{urllib.parse.urlencode(query)}"
    connection = stalled_request(port, (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    connection.settimeout(10)
    answer = connection.recv(4096)  # the 101 and engine.io's open packet
    if b" 101 " not in answer.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"the page socket did not upgrade: {answer[:200]!r}")
    connection.sendall(_masked_text_frame(b"40"))  # socket.io: join the default namespace
    return connection


def _masked_text_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def post_json(port: int, stream: str, body: bytes) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/live/{stream}", data=body,
                                     headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=30).close()


def run(clients: int, entries: int, entry_kib: int, seconds: float, say: Callable[[str], None]) -> None:
    """Run the benchmark and print what the server's memory did."""
    # The per-client limits would refuse most of these from one address: this measures memory.
    with running_app("--history", "10000", "--viewers-per-client", "0", "--viewers-per-stream", "0",
                     "--client-requests-per-second", "0", "--stream-entries-per-second", "0",
                     "--stream-bytes-per-second", "0") as app:
        assert app.process is not None
        pid, port, stream = app.process.pid, app.port, str(uuid.uuid4())
        samples: list[tuple[str, float]] = [("started", rss_mib(pid))]
        line = "m" * (entry_kib * 1024)
        batch = ("[" + ",".join(f'{{"message": "{line}"}}' for _ in range(max(1, 900 // entry_kib))) + "]").encode()
        written = 0
        while written < entries:
            post_json(port, stream, batch)
            written += max(1, 900 // entry_kib)
        samples.append((f"{written:,} entries of {entry_kib} KiB stored", rss_mib(pid)))
        held = [stalled_request(port, f"GET /live/{stream}?history=10000 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                for _ in range(clients)]
        samples.append((f"+{clients} stalled event streams", rss_mib(pid)))
        held += [stalled_request(port, f"GET /live/{stream}/entries?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                 for _ in range(clients)]
        samples.append((f"+{clients} stalled /entries", rss_mib(pid)))
        held += [stalled_page_socket(port, stream) for _ in range(clients)]
        time.sleep(2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as response:
            viewers = json.loads(response.read())["viewers"]
        samples.append((f"+{clients} stalled page sockets ({viewers} viewers)", rss_mib(pid)))
        started = time.monotonic()
        live = b'[{"message": "' + b"l" * 1000 + b'"}]'
        next_sample = started + 10
        while (now := time.monotonic()) < started + seconds:
            post_json(port, stream, live)
            if now >= next_sample:
                samples.append((f"{now - started:.0f} s of 20 lines/s", rss_mib(pid)))
                next_sample += 10
            time.sleep(0.05)
        samples.append(("end", rss_mib(pid)))
        for connection in held:
            connection.close()
        for label, value in samples:
            say(f"{label:<40} {value:8.0f} MiB")


def _print(text: str) -> None:
    print(text, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stalled_clients", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="stalled clients of each kind (default 200)")
    parser.add_argument("--entries", type=int, default=2000, help="entries in the stream (default 2000)")
    parser.add_argument("--entry-kib", type=int, default=60, help="size of each entry (default 60 KiB)")
    parser.add_argument("--seconds", type=float, default=60, help="how long live lines keep coming (default 60)")
    args = parser.parse_args()
    run(args.clients, args.entries, args.entry_kib, args.seconds, _print)


if __name__ == "__main__":
    main()

"""Viewers without a browser: a stream page's own websocket, opened from Python, counting rows.

Ten Chromium tabs each drawing 1,000 lines/s need more CPU than a 2-core machine has next to the
server (measured: see bench/notes.md), and a starved tab falls behind its socket until it times
out. The fan-out benchmark measures the server, so its viewers are real page sessions whose
socket is driven from here: the page is requested like a browser does, then its socket connects
with the page's own query (NiceGUI's handshake) and counts the rows it receives, as the page's
script would; it answers the page's one JavaScript question (a stored theme) as a fresh
browser would. Latency and single-entry ingest still use real Chromium pages.
"""

from __future__ import annotations

import ast
import asyncio
import re
import time
import uuid
from dataclasses import dataclass

import aiohttp
import socketio

from dashboard.elements.rows_feed import ROWS_MESSAGE

# The socket's query (NiceGUI's handshake: the client id the page was made for, and its next message
# number) is only in the page, in its script's createApp() call. The rows' message name and how to
# read one come from dashboard.elements.rows_feed, where the server's side of the feed lives.
CONNECT_WAIT_S = 15
_QUERY = re.compile(r"^\s*query: (\{.*\}),$", re.MULTILINE)


@dataclass
class SocketViewer:
    """One page session whose socket counts the rows it is sent."""

    client: socketio.AsyncClient
    rows: int = 0
    # Epoch milliseconds at which each row's message arrived, by message text (when asked for).
    arrived: dict[str, float] | None = None

    async def close(self) -> None:
        await self.client.disconnect()


async def open_socket_viewer(http: aiohttp.ClientSession, base_url: str, stream_id: str, *,
                             javascript_delay_s: float | None = 0.0, record_arrivals: bool = False) -> SocketViewer:
    """Request the stream page, then connect its socket as the page would.

    The page's JavaScript questions are answered after `javascript_delay_s`, or never with None
    (a busy or broken browser).
    """
    async with http.get(f"{base_url}/{stream_id}") as response:
        response.raise_for_status()
        page = await response.text()
    query = page_socket_query(page)
    query.update(document_id=str(uuid.uuid4()), tab_id=str(uuid.uuid4()), old_tab_id="null")
    viewer = SocketViewer(socketio.AsyncClient(reconnection=False), arrived={} if record_arrivals else None)

    async def count_rows(message: dict) -> None:
        rows = message["rows"]
        viewer.rows += len(rows)
        if viewer.arrived is not None:
            now = time.time() * 1000
            for row in rows:
                viewer.arrived.setdefault(row["message"], now)

    async def answer_javascript(message: dict) -> None:
        # The page asks the browser for its stored theme; a fresh browser has none.
        if "request_id" in message and javascript_delay_s is not None:
            await asyncio.sleep(javascript_delay_s)
            await viewer.client.emit("javascript_response", {"request_id": message["request_id"],
                                                              "client_id": query["client_id"], "result": None})

    viewer.client.on(ROWS_MESSAGE, count_rows)
    viewer.client.on("run_javascript", answer_javascript)
    query_string = "&".join(f"{key}={value}" for key, value in query.items())
    # A browser waits for the handshake as long as it takes; python-socketio gives up after 1 s by
    # default, which a crowd of page opens on a busy machine can exceed.
    await viewer.client.connect(f"{base_url}?{query_string}", socketio_path="/_nicegui_ws/socket.io",
                                transports=["websocket"], wait_timeout=CONNECT_WAIT_S)
    return viewer


def page_socket_query(page: str) -> dict[str, str]:
    """The query a stream page's socket connects with (NiceGUI's handshake), read from the page's HTML."""
    found = _QUERY.search(page)
    if found is None:
        raise RuntimeError("the stream page no longer carries its socket query where this bench expects it")
    # The page writes it as a Python literal (its template renders a dict).
    return {key: _query_value(value) for key, value in ast.literal_eval(found.group(1)).items()}


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""How far behind a page's socket is, and cutting off one whose browser stopped reading.

Messages to a page wait in NiceGUI's outbox, then in its engine.io socket's queue until the
browser takes them; neither is bounded. A browser that stops reading (or a script that opens the
page's socket and never reads) would make the server hold everything sent to it.
"""

from __future__ import annotations

import asyncio

from nicegui import Client, background_tasks, core

from .socket_writer import engine_sockets, protocol_of

# Messages waiting for one page beyond which it counts as having stopped reading. A reading page
# takes each message within a frame or two, and live rows are gathered while earlier ones wait
# (rows_feed); a whole history (1 MiB, see stream.MAX_HISTORY_BYTES) is 8 messages of 128 KiB.
MAX_WAITING_MESSAGES = 64
# How long a cut-off page's connection may take to close by itself before it is aborted.
ABORT_AFTER_SECONDS = 5.0


def cut_off(client: Client) -> None:
    """Drop the client's sockets, so that what waits for them is let go; a browser that comes back reloads.

    The reload is queued first: a browser that was only slow gets it when it reconnects, and starts
    again from the stream's history instead of missing what was dropped. A peer that reads nothing
    would keep a closed connection open forever with the bytes it has not taken: the connection is
    aborted (and those bytes dropped) if it is still open `ABORT_AFTER_SECONDS` later.
    """
    client.run_javascript("window.location.reload()")
    socket_ids = list(getattr(client, "_socket_to_document_id", {}))
    connections = [protocol for protocol in map(protocol_of, engine_sockets(socket_ids)) if protocol is not None]
    for socket_id in socket_ids:
        background_tasks.create(core.sio.disconnect(socket_id), name=f"cut off stalled socket {socket_id}")
    for connection in connections:
        asyncio.get_running_loop().call_later(ABORT_AFTER_SECONDS, connection.abort)

"""How far behind a page's socket is, and cutting off one whose browser stopped reading.

Messages to a page wait in NiceGUI's outbox, then in its engine.io socket's queue until the
browser takes them; neither is bounded. A browser that stops reading (or a script that opens the
page's socket and never reads) would make the server hold everything sent to it.
"""

from __future__ import annotations

from nicegui import Client, background_tasks, core

# Messages waiting for one page beyond which it counts as having stopped reading. A reading page
# takes each batch (at most ~50 a second) within a frame or two; a whole history (1 MiB, see
# stream.MAX_HISTORY_BYTES) is 8 messages of 128 KiB (rows_feed), well within it.
MAX_WAITING_MESSAGES = 64
_NAMESPACE = "/"


def waiting_messages(client: Client) -> int:
    """Messages sent to `client` that its browser has not taken yet (outbox and socket queues)."""
    waiting = len(client.outbox.messages)
    server = core.sio
    # NiceGUI keeps the client's socket IDs in a private mapping; its public API has none.
    for socket_id in list(getattr(client, "_socket_to_document_id", {})):
        engine_id = server.manager.eio_sid_from_sid(socket_id, _NAMESPACE)
        socket = server.eio.sockets.get(engine_id) if engine_id else None
        if socket is not None:
            waiting += socket.queue.qsize()
    return waiting


def cut_off(client: Client) -> None:
    """Drop the client's sockets, so that what waits for them is let go; a browser that comes back reloads.

    The reload is queued first: a browser that was only slow gets it when it reconnects, and starts
    again from the stream's history instead of missing what was dropped.
    """
    client.run_javascript("window.location.reload()")
    for socket_id in list(getattr(client, "_socket_to_document_id", {})):
        background_tasks.create(core.sio.disconnect(socket_id), name=f"cut off stalled socket {socket_id}")

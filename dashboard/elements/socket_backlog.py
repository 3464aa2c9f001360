"""How far behind a page's socket is, and cutting off one whose browser stopped reading.

Messages to a page wait in NiceGUI's outbox, then in its engine.io socket's queue until the
browser takes them; neither is bounded. A browser that stops reading (or a script that opens the
page's socket and never reads) would make the server hold everything sent to it.
"""

from __future__ import annotations

from nicegui import Client, background_tasks, core

# Messages waiting for one page beyond which it counts as having stopped reading. A reading page
# takes each message within a frame or two, and live rows are gathered while earlier ones wait
# (rows_feed); a whole history (1 MiB, see stream.MAX_HISTORY_BYTES) is 8 messages of 128 KiB.
MAX_WAITING_MESSAGES = 64


def cut_off(client: Client) -> None:
    """Drop the client's sockets, so that what waits for them is let go; a browser that comes back reloads.

    The reload is queued first: a browser that was only slow gets it when it reconnects, and starts
    again from the stream's history instead of missing what was dropped.
    """
    client.run_javascript("window.location.reload()")
    for socket_id in list(getattr(client, "_socket_to_document_id", {})):
        background_tasks.create(core.sio.disconnect(socket_id), name=f"cut off stalled socket {socket_id}")

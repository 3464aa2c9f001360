"""Dropping the connection a request came on, for a response that cannot finish.

A response left unfinished is closed by uvicorn with `transport.close()`, which first waits to write
what the connection still holds: for a reader that stopped reading, forever. So a follower cut off for
taking nothing kept its socket, its 4 MB of unsent events and its place outside every cap.
`BoundedHttpProtocol` puts an abort in each GET's scope (`scope["extensions"][ABORT_EXTENSION]`).
"""

from __future__ import annotations

from starlette.types import Scope

ABORT_EXTENSION = "bunnylogs.abort"


def abort_connection(scope: Scope) -> bool:
    """Drop the connection of `scope`'s request at once, with what it has not sent; False where the
    server offers no such thing (another ASGI server, a test client)."""
    extension = scope.get("extensions", {}).get(ABORT_EXTENSION)
    if extension is None:
        return False
    return bool(extension["abort"](scope))

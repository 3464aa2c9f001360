"""Dropping a connection whose peer does not take what it is sent.

A response left unfinished is closed by uvicorn with `transport.close()`, which first waits to write
what the connection still holds: for a reader that stopped reading, forever. So a follower cut off for
taking nothing kept its socket, its 4 MB of unsent events and its place outside every cap.
`BoundedHttpProtocol` puts an abort in each GET's scope (`scope["extensions"][CONNECTION_EXTENSION]`),
and a way to tell whether the peer takes what it is sent: a reader cut off for taking nothing is
reset, or the kernel keeps trying to send it what it holds for a minute or more.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
import termios

from starlette.types import Scope

# In each GET's scope: {"abort": (scope) -> bool, "untaken": (scope) -> int | None, "lasting": (scope) -> None}.
CONNECTION_EXTENSION = "bunnylogs.connection"
# SO_LINGER on, for 0 s: a close resets the connection and drops what it has not sent.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


def abort_connection(scope: Scope) -> bool:
    """Drop the connection of `scope`'s request at once, with what it has not sent; False where the
    server offers no such thing (another ASGI server, a test client)."""
    extension = scope.get("extensions", {}).get(CONNECTION_EXTENSION)
    if extension is None:
        return False
    return bool(extension["abort"](scope))


def untaken_by_peer(scope: Scope) -> int | None:
    """`untaken_bytes` of the connection of `scope`'s request; None where the server does not tell."""
    extension = scope.get("extensions", {}).get(CONNECTION_EXTENSION)
    return None if extension is None else extension["untaken"](scope)


def answer_lasts(scope: Scope) -> None:
    """Say that the answer to `scope`'s request lasts until its client leaves (an event stream): a client
    that half-closes is let go at once, where one owed an answer that ends is answered first."""
    extension = scope.get("extensions", {}).get(CONNECTION_EXTENSION)
    if extension is not None:
        extension["lasting"](scope)


def reset_connection(transport: asyncio.WriteTransport) -> None:
    """Close `transport` with a reset, dropping what it has not sent (which the kernel would otherwise
    keep trying to send, for a minute or more, to a peer that does not read)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
    transport.abort()


def untaken_bytes(transport: asyncio.WriteTransport) -> int:
    """Bytes written to `transport` that its peer has not taken yet: still in the transport's buffer, or
    in the kernel's, sent or not but not acknowledged (0 where the kernel does not say)."""
    waiting = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is None:
        return waiting
    with contextlib.suppress(OSError, ValueError):
        waiting += struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    return waiting

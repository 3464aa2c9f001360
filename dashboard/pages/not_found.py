"""The answer to an address that is no page: a constant 404, in place of NiceGUI's error page.

NiceGUI draws its 404 as a page: a page session kept a minute or more waiting for a socket that a
crawler, a scanner or `curl` never opens (some 150 KB each with a 20 KB address), and a warning in
the log for every request. A stream of junk addresses could fill the memory and the log.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse
from nicegui import app
from starlette.exceptions import HTTPException

from .page_access import constant_page

NO_SUCH_PAGE = constant_page("No such page", """There is nothing at this address.
A stream's address ends in a UUID, like <code>/3f8a7c2e-1b4d-4e6f-9a0b-1c2d3e4f5a6b</code>;
<a href="/">open a new stream</a>.""")


def answer_not_found_without_a_page() -> None:
    """Answer 404 with `NO_SUCH_PAGE` (or, from an API route that raised it, its JSON error)."""
    app.add_exception_handler(404, _not_found)


async def _not_found(request: Request, exception: Exception) -> Response:
    if request.scope.get("endpoint") not in (None, app) and isinstance(exception, HTTPException):
        return await http_exception_handler(request, exception)  # a route's own 404, as JSON
    return HTMLResponse(NO_SUCH_PAGE, status_code=404, headers={"Cache-Control": "no-store"})

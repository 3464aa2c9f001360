"""The latency floor: the least any design can do to show a POSTed line in a browser.

A bare Starlette app, served like BunnyLogs (uvicorn, uvloop, httptools, websockets): each form
POST to `/live/<stream>` is sent at once, as its text, over a plain WebSocket to every page open on
`/<stream>`, and the page appends one `div` per message. No batching, no JSON, no framework in the
page. `bench.measures.latency` times it exactly as it times BunnyLogs (same sender, same observer:
the page uses the same class names), so the two figures compare.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

# The page sets the flags `bench.viewers.open_viewer` waits for once its socket is open.
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>floor</title></head><body>
<div class="bl-count">0 lines</div><div class="bl-rows"></div>
<script>
const rows = document.querySelector('.bl-rows'), count = document.querySelector('.bl-count');
let received = 0;
const socket = new WebSocket(`ws://${location.host}/socket${location.pathname}`);
socket.onopen = () => { window.socket = { connected: true }; window.did_handshake = true; };
socket.onmessage = (event) => {
  const row = document.createElement('div');
  row.className = 'bl-message';
  row.textContent = event.data;
  rows.append(row);
  received += 1;
  count.textContent = `${received} lines`;
};
</script></body></html>"""

_viewers: dict[str, set[WebSocket]] = {}


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def follow(websocket: WebSocket) -> None:
    """Keep the page's socket in its stream's set until it closes."""
    stream = websocket.path_params["stream_id"]
    await websocket.accept()
    followers = _viewers.setdefault(stream, set())
    followers.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        followers.discard(websocket)


async def post_line(request: Request) -> Response:
    """Send the form's `message` to every page of the stream, then answer 204."""
    message = parse_qs((await request.body()).decode()).get("message", [""])[0]
    for websocket in list(_viewers.get(request.path_params["stream_id"], ())):
        await websocket.send_text(message)
    return Response(status_code=204)


async def healthz(request: Request) -> JSONResponse:
    """Pages following, in the form the harness reads from BunnyLogs' /healthz."""
    return JSONResponse({"viewers": sum(len(followers) for followers in _viewers.values())})


app = Starlette(routes=[Route("/healthz", healthz), Route("/live/{stream_id}", post_line, methods=["POST"]),
                        WebSocketRoute("/socket/{stream_id}", follow), Route("/{stream_id}", page)])

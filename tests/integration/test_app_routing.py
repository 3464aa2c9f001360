"""The ingest route is the outer app's own: NiceGUI's per-request middleware never sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Run in a child process: building the full app mounts NiceGUI, which is once-per-process state.
# A marker middleware on NiceGUI's own app stamps every response that passed through NiceGUI.
_PROBE = """
import json
import nicegui
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.testclient import TestClient
from dashboard.app import create_server_app
from dashboard.settings import Settings

class Marker(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["x-seen-by-nicegui"] = "yes"
        return response

served, app = create_server_app(Settings())
nicegui.app.add_middleware(Marker)
stream = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
with TestClient(served) as client:
    post = client.post(f"/live/{stream}", data={"message": "hello"})
    page = client.get("/")
print(json.dumps({"post": [post.status_code, post.headers.get("x-seen-by-nicegui")],
                  "page": [page.status_code, page.headers.get("x-seen-by-nicegui")],
                  "outer_middleware": [m.cls.__name__ for m in app.user_middleware]}))
"""


def test_nicegui_middleware_sees_pages_but_not_ingest() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST" and not k.startswith("BUNNYLOGS_")}
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["post"] == [204, None]
    assert seen["page"] == [200, "yes"]
    assert seen["outer_middleware"] == []

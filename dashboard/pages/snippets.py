"""Ready-to-copy examples that send to (and read) one stream, and how to install the client they use."""

from __future__ import annotations

import importlib.metadata
import json
import shlex
from pathlib import Path

_DISTRIBUTION = "bunnylogs"
# The checkout this server runs from, when it runs from one (`./dev serve`, `pip install -e .`).
_SOURCE_TREE = Path(__file__).resolve().parents[2]


def curl_snippet(ingest_url: str) -> str:
    """A curl command that posts one form-encoded entry."""
    return (
        f"curl -d message='Hello from curl' -d level=INFO -d program=shell \\\n"
        f"     {shlex.quote(ingest_url)}"
    )


def python_snippet(ingest_url: str) -> str:
    """A script that sends through `BunnyLogsHandler`, with the standard `logging` calls."""
    return f'''import logging
from dashboard.client import BunnyLogsHandler

handler = BunnyLogsHandler({ingest_url!r}, program="script")
logging.basicConfig(level=logging.INFO, handlers=[handler, logging.StreamHandler()])

logging.info("Hello from Python")
logging.warning("disk at %d%%", 91, extra={{"disk": "/var"}})  # extra= becomes fields'''


def shell_snippet(ingest_url: str) -> str:
    """`bunnylogs pipe` and `bunnylogs tail` for this stream."""
    url = shlex.quote(ingest_url)
    return (f"./nightly-job.sh 2>&1 | bunnylogs pipe {url} --program nightly-job\n"
            f"tail -f /var/log/app.log | bunnylogs pipe {url} --program app\n"
            f"bunnylogs tail {url} --level warning")


def install_command(requirement: str | None = None) -> str:
    """The `pip install` line for the client (the handler and the `bunnylogs` command).

    The client needs only the standard library, hence `--no-deps`. `requirement` (the
    `--client-install` setting) wins; else the source this server was installed from.
    """
    chosen = requirement or _installed_from()
    local = "" if requirement or "file://" not in chosen else (
        "# (a path on the server's machine: elsewhere, install the BunnyLogs you got the server from;\n"
        "#  the operator can show that here with --client-install)\n")
    return ("# once, where your program runs (the client needs only the standard library)\n"
            f"{local}pip install --no-deps {shlex.quote(chosen)}")


def _installed_from() -> str:
    """A pip requirement for the BunnyLogs this server runs: its install URL, or its source checkout.

    Never the bare name: `bunnylogs` on PyPI is another project (the original service's client).
    """
    try:
        recorded = importlib.metadata.distribution(_DISTRIBUTION).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        recorded = None
    if recorded:
        origin = json.loads(recorded)
        vcs = origin.get("vcs_info")
        if vcs:
            return f"{_DISTRIBUTION} @ {vcs['vcs']}+{origin['url']}@{vcs['commit_id']}"
        return f"{_DISTRIBUTION} @ {origin['url']}"
    if (_SOURCE_TREE / "pyproject.toml").is_file():
        return f"{_DISTRIBUTION} @ {_SOURCE_TREE.as_uri()}"
    return f"{_DISTRIBUTION} @ <the URL you installed this server from; set --client-install>"

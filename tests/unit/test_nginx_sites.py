"""deploy/nginx: nginx closes the idle connections it keeps to BunnyLogs before BunnyLogs would.

When both ends close an idle connection at the same moment, nginx may send a request on it as it
closes: a POST then gets a 502, and nginx counts the process as failed and sends it nothing for
10 s (seen through the cluster file with the idle timeout at 1 s: 1,037 of 4,000 POSTs got 502s).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.settings import Settings

SITES = sorted((Path(__file__).parents[2] / "deploy" / "nginx").glob("*.conf"))
UPSTREAM = re.compile(r"^upstream\s+(\w+)\s*\{(.*?)^\}", re.MULTILINE | re.DOTALL)
DIRECTIVE = re.compile(r"^\s*(keepalive|keepalive_timeout)\s+(\S+?);", re.MULTILINE)
# nginx's time units (a number alone is seconds).
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
TIME_PART = re.compile(r"(\d+)(ms|[smhdwMy])?")
# How much earlier than BunnyLogs nginx must close: the two clocks start a moment apart, on a busy host.
MARGIN_S = 1.0


def nginx_seconds(value: str) -> float:
    """An nginx time (`4s`, `500ms`, `1m30s`, `30`) in seconds."""
    parts = TIME_PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"not an nginx time: {value!r}")
    return sum(int(number) * UNITS[unit or "s"] for number, unit in parts)


def test_nginx_times_read_as_nginx_reads_them() -> None:
    assert [nginx_seconds(value) for value in ("4s", "500ms", "1m", "30", "1m30s", "1d")] == [4, 0.5, 60, 30, 90, 86400]
    with pytest.raises(ValueError):
        nginx_seconds("4 s")


@pytest.mark.parametrize("site", SITES, ids=[site.name for site in SITES])
def test_kept_alive_upstream_connections_are_closed_by_nginx_first(site: Path) -> None:
    idle_s = Settings.model_fields["idle_timeout_seconds"].default
    upstreams = UPSTREAM.findall(site.read_text())
    assert upstreams, f"{site.name} has no upstream block"
    for name, body in upstreams:
        directives = dict(DIRECTIVE.findall(body))
        assert "keepalive" in directives, f"{name}: connections to BunnyLogs are not kept alive"
        # Without the directive nginx keeps them 60 s.
        assert nginx_seconds(directives.get("keepalive_timeout", "60s")) <= idle_s - MARGIN_S, name

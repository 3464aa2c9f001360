"""The connection limits' defaults, and the flags that set them (the servers' side is in tests/integration)."""

from __future__ import annotations

import resource

import pytest

from dashboard.cli import main
from dashboard.connections import ConnectionLimits, bounded_protocol, default_max_connections
from dashboard.settings import Settings


def test_the_default_cap_leaves_room_under_the_open_file_limit() -> None:
    assert default_max_connections(1_048_576) == 4000
    assert default_max_connections(1024) == 924
    assert default_max_connections(50) == 1
    assert default_max_connections(resource.RLIM_INFINITY) == 4000


def test_the_defaults_are_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEADER_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS", "IDLE_TIMEOUT_SECONDS", "MAX_CONNECTIONS"):
        monkeypatch.delenv(f"BUNNYLOGS_{name}", raising=False)
    settings = Settings()
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds, settings.idle_timeout_seconds,
            settings.max_connections) == (10.0, 30.0, 5.0, None)


@pytest.mark.parametrize("flag", ["--header-timeout-seconds", "--body-timeout-seconds", "--idle-timeout-seconds",
                                  "--max-connections"])
def test_a_limit_of_zero_is_refused(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", flag, "0"]) == 2
    assert flag.removeprefix("--").replace("-", "_") in capsys.readouterr().err


class _Open:
    """An open connection as uvicorn's protocols record it: the peer in `client`."""

    def __init__(self, host: str) -> None:
        self.client = (host, 40000)


def test_one_address_may_hold_only_its_share_of_connections() -> None:
    limits = ConnectionLimits(header_seconds=10, body_seconds=30, idle_seconds=5, max_connections=4000,
                              max_per_client=3)
    protocol = bounded_protocol(limits).__new__(bounded_protocol(limits))  # no event loop needed for this check
    protocol.connections = {_Open("203.0.113.7") for _ in range(3)} | {_Open("198.51.100.1")}
    assert protocol._too_many_from(("203.0.113.7", 51000)), "a fourth from the same address"
    assert not protocol._too_many_from(("198.51.100.1", 51000))
    assert not protocol._too_many_from(("2001:db8::1", 51000, 0, 0))
    # An IPv6 host has a whole /64: another address in it is the same client, one outside is not.
    protocol.connections |= {_Open(f"2001:db8:0:7::{n}") for n in range(1, 4)}
    assert protocol._too_many_from(("2001:db8:0:7:abcd::1", 51000, 0, 0))
    assert not protocol._too_many_from(("2001:db8:0:8::1", 51000, 0, 0))
    # A proxy on this host (or this host's own users) is not capped: it should cap its clients itself.
    protocol.connections |= {_Open("127.0.0.1") for _ in range(10)}
    assert not protocol._too_many_from(("127.0.0.1", 51000)) and not protocol._too_many_from(("::1", 5, 0, 0))
    uncapped = bounded_protocol(ConnectionLimits(header_seconds=10, body_seconds=30, idle_seconds=5,
                                                 max_connections=4000, max_per_client=0))
    assert not uncapped.__new__(uncapped)._too_many_from(("203.0.113.7", 51000))


def test_behind_a_trusted_proxy_there_is_no_per_address_cap() -> None:
    from dashboard.server import _connection_limits

    assert _connection_limits(Settings(max_connections=100)).max_per_client == 256
    assert _connection_limits(Settings(max_connections=100, trust_x_forwarded_for=True)).max_per_client == 0

"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.servers import running_redis

# Most of a test's time is spent waiting on browsers and servers, so even one core runs two tests at
# once well; more than four at once only crowd each other's servers and browsers.
MIN_TEST_PROCESSES, MAX_TEST_PROCESSES = 2, 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many processes `-n auto` (the default, pyproject.toml) runs the tests on."""
    return max(MIN_TEST_PROCESSES, min(os.cpu_count() or 1, MAX_TEST_PROCESSES))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server for the whole run."""
    with running_redis() as redis:
        yield redis.url

"""The bus's two backends, and the one place that picks between them.

`dashboard.stream` defines what a bus does; `memory` keeps streams in this process, `redis_streams`
in Redis Streams shared by many processes (writes grouped by `group_commit`).
"""

from __future__ import annotations

from ..settings import Settings
from ..stream import Bus
from .memory import MemoryBus
from .redis_streams import RedisBus


def create_bus(settings: Settings) -> Bus:
    """The Redis bus when a Redis URL is configured, else the in-process one."""
    if settings.redis_url:
        return RedisBus(settings.redis_url, max_length=settings.max_stream_length,
                        retention_seconds=settings.retention_seconds)
    return MemoryBus(max_length=settings.max_stream_length, retention_seconds=settings.retention_seconds,
                     budget_bytes=settings.memory_budget_mb * 1024 * 1024, max_streams=settings.max_streams)

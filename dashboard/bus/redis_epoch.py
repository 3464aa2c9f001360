"""Whether Redis still holds the data this process saw: a random epoch key that lives as long as the data.

On start, each process sets `bunnylogs:epoch` if it is absent (SET NX) and remembers its value.
The key has no expiry, so it goes only with the rest of the data: a restart without persistence,
a FLUSHALL, an eviction policy that may drop any key. A process that then finds another value (or
none) knows that every stream lost its entries. It marks the streams it followed as lost (so that
a page opened later says so too) and starts reading them over from the beginning.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis

from .redis_keys import EPOCH_KEY, lost_key


def lost_text(since_ms: int) -> str:
    """What a reader is told: since when the stream holds entries, and that the ones before are gone."""
    since = datetime.fromtimestamp(since_ms / 1000, UTC).strftime("%H:%M:%S")
    return f"Redis restarted without its data: this stream's lines from before {since} UTC are gone"


def since_ms(epoch: str) -> int:
    """When an epoch began, in milliseconds since 1970."""
    return int(epoch.split(":", 1)[0])


def as_text(reply: object) -> str | None:
    """A GET's reply (undecoded bytes, or None) as text."""
    return reply.decode() if isinstance(reply, bytes) else None


async def adopt_epoch(client: Redis) -> str:
    """The epoch Redis holds, after setting a new one if it held none.

    Read first: a Redis at its `maxmemory` with `noeviction` refuses even a SET NX that would not write.
    """
    if (current := as_text(await client.get(EPOCH_KEY))) is not None:
        return current
    fresh = f"{int(time.time() * 1000)}:{uuid.uuid4().hex}"
    pipeline = client.pipeline(transaction=False)
    pipeline.set(EPOCH_KEY, fresh, nx=True)
    pipeline.get(EPOCH_KEY)
    _, current = await pipeline.execute()
    return as_text(current) or fresh


async def mark_lost(client: Redis, stream_ids: list[str], epoch: str, keep_seconds: int) -> None:
    """Remember for `keep_seconds` that these streams lost what they held before `epoch` began."""
    if not stream_ids:
        return
    pipeline = client.pipeline(transaction=False)
    for stream_id in stream_ids:
        pipeline.set(lost_key(stream_id), since_ms(epoch), ex=keep_seconds)
    await pipeline.execute()


async def lost_since(client: Redis, stream_id: str) -> int | None:
    """Since when (ms) a stream holds entries after losing earlier ones, or None if it lost none."""
    marked = as_text(await client.get(lost_key(stream_id)))
    return int(marked) if marked is not None and marked.isdigit() else None

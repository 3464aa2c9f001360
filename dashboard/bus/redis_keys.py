"""The one place that builds the Redis bus's keys (the rate limits' own are in `rate_limit`)."""

from __future__ import annotations

KEY_PREFIX = "bunnylogs"
# Which generation of data Redis holds; see `redis_epoch`.
EPOCH_KEY = f"{KEY_PREFIX}:epoch"


def stream_key(stream_id: str) -> str:
    """The Redis key of a log stream."""
    return f"{KEY_PREFIX}:stream:{stream_id}"


def stream_id_from_key(key: str) -> str:
    """The log stream a Redis key (from `stream_key`) belongs to."""
    return key.removeprefix(f"{KEY_PREFIX}:stream:")


def batch_key_of(stream_id: str, key: str) -> str:
    """The Redis key that records what a client's batch key (`Idempotency-Key`) stored in a stream."""
    return f"{KEY_PREFIX}:batch:{stream_id}:{key}"


def wake_key(process_token: str) -> str:
    """The private stream one process's reader watches, so that a newly followed stream joins at once."""
    return f"{KEY_PREFIX}:wake:{process_token}"


def lost_key(stream_id: str) -> str:
    """Where Redis remembers that a stream's entries were lost, and since when."""
    return f"{KEY_PREFIX}:lost:{stream_id}"

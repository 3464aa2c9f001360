"""The memory bus's record of batch keys: forgotten after its time, and bounded in number."""

from __future__ import annotations

from dashboard.bus.recent_batches import RecentBatches


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_known_until_its_time_is_up() -> None:
    clock = Clock()
    batches = RecentBatches(600, clock=clock)
    batches.remember("s", "k", "1-0", "1-4")
    clock.now = 599
    assert batches.get("s", "k") == ("1-0", "1-4") and batches.get("other", "k") is None
    clock.now = 601
    assert batches.get("s", "k") is None and len(batches) == 0


def test_beyond_the_cap_the_oldest_keys_go_first() -> None:
    batches = RecentBatches(600, max_keys=3, clock=Clock())
    for n in range(5):
        batches.remember("s", f"k{n}", f"{n}-0", f"{n}-0")
    assert len(batches) == 3
    assert [batches.get("s", f"k{n}") is not None for n in range(5)] == [False, False, True, True, True]

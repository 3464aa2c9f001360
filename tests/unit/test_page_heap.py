"""Pages' objects kept out of full collections: what is frozen stays until a reclaim, which collects it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from dashboard.pages.page_heap import MIN_CLOSED_PAGES, OBJECTS_PER_CLOSED_PAGE, PageHeap, reclaim_due


class Node:
    """An object that can refer to itself."""

    me: object = None


@pytest.fixture(autouse=True)
def _collector_as_it_was() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of this test process keeps collecting as usual


def frozen_cycle() -> weakref.ref[Node]:
    node = Node()
    node.me = node
    gc.freeze()
    return weakref.ref(node)


def test_a_reclaim_collects_a_cycle_that_was_frozen() -> None:
    heap = PageHeap()
    cycle = frozen_cycle()
    gc.collect()
    assert cycle() is not None, "a full collection does not walk frozen objects"
    heap.reclaim()
    assert cycle() is None
    assert heap.state.reclaims == 1 and heap.state.closed_since_reclaim == 0
    assert heap.state.kept_after_reclaim == gc.get_freeze_count() > 0


def test_frozen_objects_nothing_refers_to_are_still_freed() -> None:
    node = Node()
    gone = weakref.ref(node)
    gc.freeze()
    del node
    assert gone() is None


def test_what_survives_a_full_collection_is_frozen() -> None:
    heap = PageHeap()
    gc.callbacks.append(heap.after_collection)
    try:
        survivor = Node()
        gc.collect()
        assert not any(found is survivor for found in gc.get_objects())
        gc.collect(1)  # a young collection freezes nothing
        young = Node()
        gc.collect(1)
        assert any(found is young for found in gc.get_objects())
    finally:
        gc.callbacks.remove(heap.after_collection)


def test_a_reclaim_is_due_once_closed_pages_left_a_quarter_of_what_was_kept() -> None:
    assert not reclaim_due(MIN_CLOSED_PAGES - 1, 0)
    assert reclaim_due(MIN_CLOSED_PAGES, 0)
    kept = 1000 * OBJECTS_PER_CLOSED_PAGE  # a thousand open pages' worth
    assert not reclaim_due(249, kept)
    assert reclaim_due(250, kept)
    # A process that holds much else (the in-process bus's entries) waits for more closed pages.
    assert not reclaim_due(250, 10 * kept)

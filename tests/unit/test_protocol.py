"""The protocol's facts: level names and numbers become canonical names; stream and entry IDs; view keys."""

import random
import uuid

import pytest

from dashboard.entry import InvalidEntry, normalize_level
from dashboard.protocol import (
    InvalidLevel,
    bus_stream_id,
    canonical_stream_id,
    entry_id_order,
    is_entry_id,
    is_stream_id,
    is_view_key,
    level_rank,
    level_threshold,
    view_key,
)


@pytest.mark.parametrize(("given", "expected"), [
    ("info", "INFO"), ("INFO", "INFO"), (" Debug ", "DEBUG"), ("warning", "WARNING"),
    ("warn", "WARNING"), ("WARN", "WARNING"), ("fatal", "CRITICAL"), ("crit", "CRITICAL"),
    ("err", "ERROR"), ("error", "ERROR"), ("critical", "CRITICAL"),
    (10, "DEBUG"), (20, "INFO"), (30, "WARNING"), (40, "ERROR"), (50, "CRITICAL"),
    (25, "INFO"), (0, "DEBUG"), (49, "ERROR"), (30.0, "WARNING"), ("40", "ERROR"),
    ("trace", "TRACE"), ("success", "SUCCESS"), ("audit-log", "AUDIT-LOG"),
    (None, "INFO"), ("", "INFO"),
])
def test_level_is_normalised(given: object, expected: str) -> None:
    assert normalize_level(given) == expected


@pytest.mark.parametrize("given", [51, -1, 100, "60", True, 12.5, [1], {"a": 1}, "<script>", "has space",
                                   "x" * 21, "9lives", "²", "٣", "9" * 5000, 10**400, float("nan"), float("inf")])
def test_bad_level_is_refused_with_a_reason(given: object) -> None:
    with pytest.raises(InvalidEntry, match="level"):
        normalize_level(given)


def test_levels_rank_by_severity_and_unknown_names_rank_as_info() -> None:
    assert level_rank("CRITICAL") > level_rank("ERROR") > level_rank("WARNING") > level_rank("NOTICE")
    assert level_rank("NOTICE") > level_rank("INFO") > level_rank("DEBUG") > level_rank("TRACE")
    assert level_rank("warning") == level_rank("WARNING")
    assert level_rank("CUSTOM") == level_rank("INFO")


def test_stream_ids_are_canonical_uuids() -> None:
    stream = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
    assert is_stream_id(stream)
    assert not is_stream_id(stream.upper()) and not is_stream_id(stream + "0") and not is_stream_id("")


def test_a_uuid_in_any_case_names_the_stream_of_its_lower_case() -> None:
    stream = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
    assert canonical_stream_id(stream) == canonical_stream_id(stream.upper()) == stream
    assert canonical_stream_id("0B6d5F2a-8c1e-4d3b-9f7a-2e4c6a8b0d1F") == stream
    for not_a_stream in (stream + "0", f"{{{stream}}}", stream.replace("-", ""), "",
                         stream.replace("f", "g"), stream.replace("a", "\uff41")):
        assert canonical_stream_id(not_a_stream) is None


@pytest.mark.parametrize(("given", "valid"), [
    ("1700000000000-3", True), ("1700000000000", True), ("0", True), ("0-0", True),
    (f"{2**64 - 1}-{2**64 - 1}", True), (f"{2**64}-0", False), (f"0-{2**64}", False), ("1" * 21, False),
    ("١٢٣-0", False), ("²", False), ("1-", False), ("-1", False), ("1-2-3", False), ("", False), (" 1", False),
])
def test_entry_ids_are_two_64_bit_numbers(given: str, valid: bool) -> None:
    assert is_entry_id(given) is valid


def test_entry_ids_order_numerically_not_as_text() -> None:
    assert entry_id_order("10-0") > entry_id_order("9-5")
    assert entry_id_order("5-10") > entry_id_order("5-9") > entry_id_order("5")


@pytest.mark.parametrize(("given", "rank"), [
    ("warn", 30), ("WARNING", 30), (" Warning ", 30), ("30", 30), ("0040", 40), ("5", 5), ("0", 0),
    ("trace", 5), ("notice", 25), ("fatal", 50), ("dbg", 10),
])
def test_a_threshold_is_a_rank(given: str, rank: int) -> None:
    assert level_threshold(given) == rank


@pytest.mark.parametrize("given", ["", "warnnig", "custom", "51", "-1", "²", "9" * 50, "<b>"])
def test_a_threshold_needs_a_level_with_a_rank_or_a_number(given: str) -> None:
    with pytest.raises(InvalidLevel):
        level_threshold(given)


WRITE_KEY = "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"
# sha256(b"bunnylogs view key\x00" + WRITE_KEY), first 16 bytes, with version 8 and the RFC variant set.
WRITE_KEY_VIEW = "a714eee6-6b51-818d-99f4-61ade4464801"


def test_a_view_key_is_derived_from_the_write_key_the_same_way_everywhere() -> None:
    assert view_key(WRITE_KEY) == WRITE_KEY_VIEW
    assert is_stream_id(WRITE_KEY_VIEW)


SOME_WRITE_KEYS = [str(uuid.UUID(int=random.Random(seed).getrandbits(128), version=4)) for seed in range(20)]
OTHER_UUIDS = ["2810e888-ea00-11f1-a532-02fc00000001",  # a version 1 (time-based) UUID
               str(uuid.UUID(int=0)), str(uuid.UUID(int=2**128 - 1))]


@pytest.mark.parametrize("write_key", SOME_WRITE_KEYS + OTHER_UUIDS)
def test_a_view_key_is_a_version_8_rfc_uuid_and_no_write_key_is(write_key: str) -> None:
    derived = uuid.UUID(view_key(write_key))
    assert (derived.version, derived.variant) == (8, uuid.RFC_4122)
    assert is_view_key(str(derived)) and not is_view_key(write_key)


def test_view_keys_differ_for_different_write_keys_and_do_not_show_them() -> None:
    neighbours = [WRITE_KEY, WRITE_KEY[:-1] + "e", "1" + WRITE_KEY[1:], WRITE_KEY.replace("4d3b", "4d3a")]
    views = [view_key(key) for key in neighbours]
    assert len(set(views)) == len(neighbours)
    for key, view in zip(neighbours, views, strict=True):
        assert view != key
        # no group of the write key survives in its view key
        assert not any(group in view for group in key.split("-"))


def test_is_view_key_needs_a_canonical_uuid_of_version_8() -> None:
    assert is_view_key("00000000-0000-8000-8000-000000000000")
    assert not is_view_key("00000000-0000-4000-8000-000000000000")
    assert not is_view_key(WRITE_KEY_VIEW.upper()) and not is_view_key(WRITE_KEY_VIEW + "0") and not is_view_key("")


def test_the_bus_keeps_a_stream_under_its_view_key_whichever_key_names_it() -> None:
    assert bus_stream_id(WRITE_KEY) == bus_stream_id(WRITE_KEY_VIEW) == WRITE_KEY_VIEW
    assert view_key(WRITE_KEY_VIEW) == WRITE_KEY_VIEW, "a view key is its own view key"


@pytest.mark.parametrize("not_canonical", [WRITE_KEY.upper(), WRITE_KEY + "0", "", "not a uuid"])
def test_a_view_key_is_derived_from_a_canonical_stream_id_only(not_canonical: str) -> None:
    with pytest.raises(ValueError, match="stream ID"):
        view_key(not_canonical)


def test_only_text_of_a_uuids_length_is_remembered_between_calls() -> None:
    # Any path after /live/ is asked about: junk of any length must not stay in memory.
    from dashboard.protocol import _canonical_stream_id

    before = _canonical_stream_id.cache_info().currsize
    for size in (0, 35, 37, 64_000):
        assert canonical_stream_id("a" * size) is None
    assert _canonical_stream_id.cache_info().currsize == before
    assert canonical_stream_id("0B6D5F2A-8C1E-4D3B-9F7A-2E4C6A8B0D1F") == "0b6d5f2a-8c1e-4d3b-9f7a-2e4c6a8b0d1f"


@pytest.mark.parametrize("given", [25.5, -0.5, 0.1])
def test_a_level_number_with_a_fraction_is_refused_as_a_number_that_is_not_whole(given: float) -> None:
    # It was refused as "a name or a number", which it is.
    with pytest.raises(InvalidEntry, match=f"^a numeric level must be a whole number from 0 to 50, got {given}$"):
        normalize_level(given)

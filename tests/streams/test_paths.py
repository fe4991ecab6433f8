"""Stream path validation and offsets."""

from __future__ import annotations

import pytest

from solidtype_jupyter.streams import (
    InvalidStreamPathError,
    format_offset,
    parse_offset,
    validate_stream_path,
)
from solidtype_jupyter.streams.offsets import InvalidOffsetError, is_valid_query_offset


@pytest.mark.parametrize("path", ["ai-chat/0b7c", "documents/x.solid.json", "a", "runs/r 1"])
def test_valid_paths(path):
    assert validate_stream_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "../etc/passwd",
        "a/../b",
        "a/./b",
        "a//b",
        "/abs",
        "a/",
        "a\\b",
        "a\x00b",
        "a\nb",
        "a\x7f",
        "x" * 1025,
    ],
)
def test_invalid_paths(path):
    with pytest.raises(InvalidStreamPathError):
        validate_stream_path(path)


def test_offsets_are_fixed_width_and_sort_like_positions():
    positions = [0, 1, 9, 10, 99, 12345678901]
    offsets = [format_offset(p) for p in positions]
    assert sorted(offsets) == offsets
    assert len({len(o) for o in offsets}) == 1
    assert [parse_offset(o) for o in offsets] == positions
    for bad in ("", "now", "-1", "1,2", "a_b", "1_2_3", "../1_2"):
        with pytest.raises(InvalidOffsetError):
            parse_offset(bad)
    assert is_valid_query_offset("-1") and is_valid_query_offset("now")
    assert not is_valid_query_offset("0 1")

"""Stream offsets: fixed-width, lexicographically sortable, strictly increasing.

An offset names a position in a stream's byte space: ``0000000000000000_<position>``,
two zero-padded 16-digit decimals. The first half is always 0 today (a read epoch kept for
compatibility with the reference server's format, which clients and the conformance suite
use literally, e.g. as ``Stream-Fork-Offset``); the second is the position after the last
byte of a message, so every append moves it forward by at least one.
"""

from __future__ import annotations

import re

BEGINNING = "-1"
NOW = "now"
_WIDTH = 16
_OFFSET_RE = re.compile(r"^(\d{1,16})_(\d{1,16})$")
ZERO = f"{0:0{_WIDTH}d}_{0:0{_WIDTH}d}"


class InvalidOffsetError(ValueError):
    """An offset that is neither a sentinel nor in our format."""


def format_offset(position: int) -> str:
    return f"{0:0{_WIDTH}d}_{position:0{_WIDTH}d}"


def parse_offset(text: str) -> int:
    """The position an offset names; raises ``InvalidOffsetError`` for anything else."""
    match = _OFFSET_RE.match(text)
    if match is None:
        raise InvalidOffsetError(f"invalid offset {text!r}")
    return int(match.group(2))


def is_valid_query_offset(text: str) -> bool:
    return text in (BEGINNING, NOW) or _OFFSET_RE.match(text) is not None

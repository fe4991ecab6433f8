"""Stream path validation: the names under ``.../v1/stream/``."""

from __future__ import annotations

import re

MAX_PATH_LENGTH = 1024
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")


class InvalidStreamPathError(ValueError):
    """A stream path that could escape its namespace or confuse a log or header."""


def validate_stream_path(path: str) -> str:
    """Return ``path`` if it is a safe stream name, else raise ``InvalidStreamPathError``.

    Rules: 1-1024 characters; no control characters; no backslash; ``/``-separated
    segments that are non-empty and neither ``.`` nor ``..``.
    """
    if not path or len(path) > MAX_PATH_LENGTH:
        raise InvalidStreamPathError("a stream path has 1 to 1024 characters")
    if _FORBIDDEN.search(path):
        raise InvalidStreamPathError("a stream path must not contain control characters")
    if "\\" in path:
        raise InvalidStreamPathError("a stream path must not contain a backslash")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidStreamPathError(
                "a stream path has non-empty segments other than '.' and '..'"
            )
    return path

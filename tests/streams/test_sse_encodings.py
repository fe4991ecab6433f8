"""The shared SSE encodings of live batches: what is kept, and what may be shared."""

from __future__ import annotations

from solidtype_jupyter.server.streams import _SSEEncodings
from solidtype_jupyter.streams.records import StoredMessage

JSON = "application/json"


def test_readers_of_one_append_share_its_encoding_and_nothing_else_does() -> None:
    encodings = _SSEEncodings()
    messages = [StoredMessage(8, b'{"a":1},')]
    first = encodings.pushed("/s", 0, messages, 8, False, JSON, False, None)
    assert encodings.pushed("/s", 0, messages, 8, False, JSON, False, None) is first
    # The same path, positions and length, other data: another stream of the same name.
    other = [StoredMessage(8, b'{"b":2},')]
    again = encodings.pushed("/s", 0, other, 8, False, JSON, False, None)
    assert b'"b":2' in again and b'"a":1' not in again


def test_large_batches_are_encoded_but_not_kept() -> None:
    encodings = _SSEEncodings(max_bytes=1024)
    big = [StoredMessage(4000, b"[" + b"1," * 1998 + b"1],")]
    first = encodings.pushed("/s", 0, big, 4000, False, JSON, False, None)
    second = encodings.pushed("/s", 0, big, 4000, False, JSON, False, None)
    assert first == second and first is not second
    small = [StoredMessage(4008, b'{"a":1},')]
    kept = encodings.pushed("/s", 4000, small, 4008, False, JSON, False, None)
    assert encodings.pushed("/s", 4000, small, 4008, False, JSON, False, None) is kept

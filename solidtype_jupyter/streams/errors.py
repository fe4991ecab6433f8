"""Errors of stream operations: each maps to one HTTP status of the protocol.

The Python API raises these; the HTTP handlers translate them to status and headers, so
both entry points have the same semantics.
"""

from __future__ import annotations

from typing import Any


class StreamError(Exception):
    """Base class; ``status`` is the protocol's HTTP status for this failure."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross from the writer process as pickles; subclasses take other
        # constructor arguments, so rebuild from the attributes instead of ``args``.
        return (_restore, (type(self), self.__dict__))


def _restore(cls: type[StreamError], attributes: dict[str, Any]) -> StreamError:
    error = cls.__new__(cls)
    Exception.__init__(error, attributes["message"])
    error.__dict__.update(attributes)
    return error


class InvalidRequestError(StreamError):
    """Malformed input: bad headers, offsets, JSON, empty bodies (400)."""

    status = 400


class StreamNotFoundError(StreamError):
    """No such stream, or it expired (404)."""

    status = 404


def fork_source_not_found(path: str) -> StreamNotFoundError:
    """The answer for a fork source that does not exist, and (HTTP) for one the user may not
    read: the same status and text, so a fork cannot probe whether a stream exists."""
    return StreamNotFoundError(f"fork source {path!r} not found")


class StreamGoneError(StreamError):
    """The stream was deleted but is kept for its forks (410)."""

    status = 410


class StreamConflictError(StreamError):
    """Config mismatch, content-type mismatch, Stream-Seq regression, blocked path (409)."""

    status = 409


class StreamClosedError(StreamConflictError):
    """Append to a closed stream (409 with ``Stream-Closed`` and the final offset)."""

    def __init__(self, message: str, next_offset: str) -> None:
        super().__init__(message)
        self.next_offset = next_offset


class StaleProducerEpochError(StreamError):
    """A producer epoch older than the stored one (403): a fenced zombie writer."""

    status = 403

    def __init__(self, current_epoch: int) -> None:
        super().__init__(f"stale producer epoch; current epoch is {current_epoch}")
        self.current_epoch = current_epoch


class ProducerSequenceGapError(StreamConflictError):
    """A producer sequence number that skips ahead (409)."""

    def __init__(self, expected: int, received: int) -> None:
        super().__init__(f"producer sequence gap: expected {expected}, received {received}")
        self.expected = expected
        self.received = received


class StorageUnavailableError(StreamError):
    """The database failed; nothing was acknowledged (503)."""

    status = 503

"""Request bodies bounded while they arrive.

Without ``stream_request_body`` tornado reads a whole body (up to jupyter_server's
``max_body_size``, 512 MB) before a handler sees it, so a size check in the handler comes too
late to spare the memory. ``BoundedBodyMixin`` receives the body in pieces and keeps at most
``max_body_bytes()`` of it.
"""

from __future__ import annotations

from tornado import web

#: A refused body of up to this many times the limit is still read (and dropped) before
#: the 413: most clients send a body whole before they read the answer, and one that is
#: answered while it sends sees a connection reset instead (nginx's lingering close does
#: the same). A larger one is answered at once, and its connection closed.
DRAIN_FACTOR = 16


class BoundedBodyMixin(web.RequestHandler):
    """For a handler decorated with ``@web.stream_request_body``: subclasses provide
    ``max_body_bytes()`` and ``refuse_body()`` (the 413 in their own error format), call
    ``limit_body()`` at the end of ``prepare`` (once the request is authenticated: a stranger
    gets 403, not 413), and read ``received_body``, or answer ``answer_refused()`` when
    ``body_refused``.

    A body larger than the limit is refused from its Content-Length (or, when chunked, as it
    passes the limit); it is read and dropped up to ``DRAIN_FACTOR`` times the limit so the
    client can read the 413, and cut off beyond.
    """

    _body_parts: list[bytes] | None = None
    _body_size = 0
    body_refused = False

    def max_body_bytes(self) -> int:
        raise NotImplementedError

    def refuse_body(self, limit: int) -> None:
        """Answer 413 for a body over ``limit`` bytes."""
        raise NotImplementedError

    def limit_body(self) -> None:
        """Refuse a body that declares more than the limit before reading any of it."""
        declared = self.request.headers.get("Content-Length")
        # tornado has checked that a Content-Length is one non-negative integer.
        if declared is None or int(declared) <= self.max_body_bytes():
            return
        self.body_refused = True
        expects_continue = self.request.headers.get("Expect", "").lower() == "100-continue"
        if expects_continue or int(declared) > self._drain_bytes():
            # Answered now (closing the connection): a client that waits for
            # "100 Continue" has sent nothing yet and never will.
            self.answer_refused()

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._body_size += len(chunk)
        if not self.body_refused and self._body_size > self.max_body_bytes():
            self.body_refused = True
            self._body_parts = None
        if self.body_refused:
            if self._body_size > self._drain_bytes():
                self.answer_refused()  # the rest is never read
            return
        if self._body_parts is None:
            self._body_parts = []
        self._body_parts.append(chunk)

    def _drain_bytes(self) -> int:
        return DRAIN_FACTOR * self.max_body_bytes()

    def answer_refused(self) -> None:
        if not self._finished:
            self.refuse_body(self.max_body_bytes())

    @property
    def received_body(self) -> bytes:
        return b"".join(self._body_parts or ())

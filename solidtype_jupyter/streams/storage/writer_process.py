"""The stream writer process: a child of the server that owns the write connection.

Why a process: a batch's work is Python (the protocol in ``streams.operations``, building
statements, the driver's calls), and in the server it would compete with the event loop for
the one interpreter lock. On PostgreSQL, where psycopg costs about twice SQLite's Python
time per append, the child halved the chat's p99 delivery delay (BENCHMARKS.md, Chat); on
SQLite, whose C library already works outside the lock, a thread does better, so
``open_storage``'s ``auto`` uses the process for PostgreSQL only. The child runs the same
``ThreadedSQLStorage.run_operations`` on its own interpreter, on the machine's other core.

Group commit happens in the child: the server's event loop writes each operation to the
child's input as it comes (those of one loop iteration in one frame), without waiting, and
the child takes every operation that has arrived into its next transaction. So the child
goes from one commit straight to the next while the server settles the last one's futures;
with a thread in the server forming the batches, the child stood idle whenever that thread
waited for the interpreter lock behind the loop (BENCHMARKS.md, Chat).

Frames, both directions on the child's stdin/stdout: an 8-byte big-endian length, then a
pickle. The first frame to the child is the storage's ``writer_spec``, answered by
``("ready", identity)`` or ``("error", reason)``. Then each frame to the child is a list of
``(function, args, path)`` (module-level functions of ``streams.operations`` and
dataclasses, so they pickle by reference), and each reply a list of outcomes (results, or
the ``StreamError`` to raise) for the next operations in the order they were sent. The pipe
connects the server to the child it started, so the pickles come from the same code on both
ends.

The child holds no state of its own between transactions, so if it dies the operations not
yet answered fail (503: not acknowledged, though they may have committed) and the next
write starts a new child. When the server goes away the child reads end-of-file and exits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib
import logging
import os
import pickle
import select
import signal
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..errors import StorageUnavailableError
from .sql import MAX_BATCH

if TYPE_CHECKING:
    from .sql import Operation, ThreadedSQLStorage

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!Q")
#: How long ``close`` waits for the child to finish its batch and exit before killing it.
EXIT_TIMEOUT_SECONDS = 10.0
#: Put first on the child's path, so it imports this very copy of the package.
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[3])


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


class _Frames:
    """Splits bytes as they arrive into the values of complete frames."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def take(self) -> tuple[bool, Any]:
        """``(True, value)`` of the next complete frame, or ``(False, None)``."""
        if len(self.buffer) < _HEADER.size:
            return False, None
        (size,) = _HEADER.unpack_from(self.buffer)
        end = _HEADER.size + size
        if len(self.buffer) < end:
            return False, None
        value = pickle.loads(self.buffer[_HEADER.size : end])
        del self.buffer[:end]
        return True, value


class WriterProcess:
    """Server side: the child for ``storage``, fed from the event loop it was started on."""

    def __init__(self, storage: ThreadedSQLStorage) -> None:
        self.storage = storage
        self.loop: asyncio.AbstractEventLoop | None = None  # where it was started
        self._transport: asyncio.SubprocessTransport | None = None
        self._child: _ChildProtocol | None = None
        self._starting: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The child's process id (``None`` between a crash and the next write)."""
        if self._transport is None or self._child is None or not self._child.running:
            return None
        return int(self._transport.get_pid())

    async def start(self) -> None:
        """Start the child (again, after a crash); ``StorageUnavailableError`` if it fails."""
        self.loop = asyncio.get_running_loop()
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        starting = self._starting
        try:
            await asyncio.shield(starting)
        finally:
            if starting.done() and self._starting is starting:
                self._starting = None

    async def _start(self) -> None:
        assert self.loop is not None
        if self._transport is not None and self._child is not None:  # a child that died
            old_transport = self._transport
            self._child.done.add_done_callback(lambda _: old_transport.close())
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_PARENT, env.get("PYTHONPATH")]))
        transport, child = await self.loop.subprocess_exec(
            _ChildProtocol, sys.executable, "-m", __name__, stderr=None, env=env
        )
        self._transport, self._child = transport, child
        child.send(_frame(self.storage.writer_spec()))
        reply = await child.handshake
        if reply is None or reply[0] != "ready":
            await self._stop()
            reason = "it exited (see its error above)" if reply is None else reply[1]
            raise StorageUnavailableError(f"the stream writer process did not start: {reason}")
        self.storage.adopt_writer(reply[1])

    async def write(self, operation: Operation) -> Any:
        """Send ``operation`` to the child and wait for its outcome (raised if an error)."""
        if self._closed:
            raise StorageUnavailableError("the stream storage is closed")
        if self._child is None or not (self._child.alive and self._child.running):
            await self.start()
        assert self._child is not None and self.loop is not None
        future: asyncio.Future[Any] = self.loop.create_future()
        self._child.submit(operation, future)
        return await future

    async def close(self) -> None:
        """Let the child finish what it was sent, then stop it."""
        self._closed = True
        await self._stop()

    async def _stop(self) -> None:
        transport, child = self._transport, self._child
        self._transport = self._child = None
        if transport is None or child is None:
            return
        child.send_outbox()
        stdin = transport.get_pipe_transport(0)
        if stdin is not None:
            stdin.close()  # end of input: the child finishes its batch and exits
        try:
            await asyncio.wait_for(asyncio.shield(child.done), EXIT_TIMEOUT_SECONDS)
        except TimeoutError:
            transport.kill()
            await child.done
        finally:
            transport.close()


class _ChildProtocol(asyncio.SubprocessProtocol):
    """One child's pipes: operations out, in frames; outcomes back, matched to the futures
    in the order the operations were sent.

    The child is gone once its output ends (after its last reply; its exit alone may be
    seen first, with replies still in the pipe): then every operation not answered fails.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[Any] = self._loop.create_future()
        self.done: asyncio.Future[None] = self._loop.create_future()  # output ended, exited
        self.alive = True  # its output has not ended
        self.running = True  # it has not exited
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._outbox: list[Operation] = []
        self._frames = _Frames()
        self._transport: asyncio.SubprocessTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports, under ``streams serve``, do not subclass asyncio's.)
        self._transport = cast(asyncio.SubprocessTransport, transport)

    def submit(self, operation: Operation, future: asyncio.Future[Any]) -> None:
        if not self._outbox:
            self._loop.call_soon(self.send_outbox)
        self._outbox.append(operation)
        self._waiting.append(future)

    def send_outbox(self) -> None:
        # What was written in one loop iteration goes in one frame (one pickle, one system
        # call), and usually into one transaction.
        operations, self._outbox = self._outbox, []
        if operations and self.alive:
            self.send(_frame(operations))

    def send(self, data: bytes) -> None:
        assert self._transport is not None
        stdin = cast(asyncio.WriteTransport, self._transport.get_pipe_transport(0))
        if not stdin.is_closing():
            stdin.write(data)

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self._frames.feed(data)
        while True:
            complete, value = self._frames.take()
            if not complete:
                return
            if not self.handshake.done():
                self.handshake.set_result(value)
                continue
            for outcome in value:
                future = self._waiting.popleft()
                if future.done():  # its writer was cancelled
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd != 1:
            return
        self.alive = False
        if not self.handshake.done():
            self.handshake.set_result(None)
        if self._waiting:
            log.error("durable streams: the writer process exited during a write; restarting")
            lost = StorageUnavailableError(
                "the stream writer process exited during the write; it was not acknowledged "
                "and may or may not be stored (a producer's retry is safe)"
            )
            while self._waiting:
                future = self._waiting.popleft()
                if not future.done():
                    future.set_exception(lost)
        self._outbox = []
        self._finish()

    def process_exited(self) -> None:
        self.running = False
        self._finish()

    def _finish(self) -> None:
        if not self.alive and not self.running and not self.done.done():
            self.done.set_result(None)


# --------------------------------------------------------------------------- the child


class _Requests:
    """The child's input: blocks for the first frame of a batch, then takes what else has
    arrived without waiting (``select`` with no timeout on the raw descriptor; a buffered
    reader would hide bytes it already holds from ``select``)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.frames = _Frames()
        self.ended = False

    def _read(self, *, wait: bool) -> bool:
        """Read what there is (waiting for something if ``wait``); ``False`` if nothing."""
        if self.ended or not (wait or select.select([self.fd], [], [], 0)[0]):
            return False
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.ended = True
            return False
        self.frames.feed(chunk)
        return True

    def next(self) -> Any:
        """The next frame's value, ``None`` at end of input."""
        while True:
            complete, value = self.frames.take()
            if complete:
                return value
            if not self._read(wait=True):
                return None

    def batch(self) -> list[Operation] | None:
        """The operations of every frame that has arrived (at least one frame, waiting for
        it), up to about ``MAX_BATCH`` (as the writer thread's); ``None`` at end of input."""
        first = self.next()
        if first is None:
            return None
        operations = list(first)
        while len(operations) < MAX_BATCH:
            complete, value = self.frames.take()
            if complete:
                operations.extend(value)
            elif not self._read(wait=False):
                break
        return operations


def _reply(stream: Any, value: Any) -> None:
    try:
        data = _frame(value)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        # Should not happen (results are dataclasses, errors StreamErrors); if it does,
        # the batch still committed, but the server can only report a storage error.
        log.error("durable streams: a batch's outcome could not be sent back: %s", exc)
        data = _frame([StorageUnavailableError(f"unsendable result: {exc}")] * len(value))
    stream.write(data)
    stream.flush()


def main() -> None:
    """The child: build the storage from the first frame, then run batches until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; it stops us
    requests, replies = _Requests(sys.stdin.fileno()), sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    logging.basicConfig(level=logging.WARNING, format="solidtype stream writer: %(message)s")
    spec = requests.next()
    if spec is None:
        return
    name, args = spec
    module, _, class_name = name.partition(":")
    try:
        storage = getattr(importlib.import_module(module), class_name)(*args)
        connection = storage.connect(writer=True)
        identity = storage.start_writer_side(connection)
    except Exception as exc:
        with contextlib.suppress(BrokenPipeError):
            _reply(replies, ("error", f"{type(exc).__name__}: {exc}"))
        return
    _reply(replies, ("ready", identity))
    try:
        while (operations := requests.batch()) is not None:
            _reply(replies, storage.run_operations(connection, operations))
    except BrokenPipeError:
        pass  # the server went away
    finally:
        storage.stop_writer_side()
        connection.close()


if __name__ == "__main__":
    main()

"""The stream writer process: a child of the server that owns the write connection.

Why a process: the writer thread's batches are Python work (the protocol in
``streams.operations``, building statements, the driver's per-row calls), and in the server
they compete with the event loop for the one interpreter lock. On PostgreSQL, where psycopg
costs about twice SQLite's Python time per append, moving them to a child halved the chat's
p99 delivery delay with 100 and with 200 streaming sessions (BENCHMARKS.md, Chat); on
SQLite, whose C library already works outside the lock, it did not pay for the extra hop,
so ``open_storage``'s ``auto`` uses it for PostgreSQL only. The child runs the same
``ThreadedSQLStorage.run_operations`` on its own interpreter, on the machine's other core.

What stays the same: the server's writer thread still forms the batches (group commit:
operations queue while the previous batch commits) and settles the futures; it only swaps
running a batch for one round trip to the child. The child holds no state of its own
between batches, so if it dies the batch in flight fails (503: not acknowledged, though it
may have committed) and the next batch starts a new child. When the server goes away the
child reads end-of-file on its input and exits.

Frames, both directions on the child's stdin/stdout: an 8-byte big-endian length, then a
pickle. A batch is a list of ``(function, args, path)`` (module-level functions of
``streams.operations`` and dataclasses, so they pickle by reference); a reply is the list
of outcomes (results, or the ``StreamError`` to raise). The pipe connects the server to the
child it started, so the pickles come from the same code on both ends.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import StorageUnavailableError

if TYPE_CHECKING:
    from .sql import Operation, ThreadedSQLStorage

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!Q")
#: How long ``close`` waits for the child to finish its batch and exit before killing it.
EXIT_TIMEOUT_SECONDS = 10.0


class WriterProcess:
    """Server side: starts the child for ``storage`` and runs batches in it (blocking;
    called from the storage's writer thread)."""

    def __init__(self, storage: ThreadedSQLStorage) -> None:
        self.storage = storage
        self._child: subprocess.Popen[bytes] | None = None
        self._start()

    def _start(self) -> None:
        package_parent = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
        child = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        assert child.stdin is not None and child.stdout is not None
        self._child = child
        try:
            _send(child.stdin, self.storage.writer_spec())
            reply = _receive(child.stdout)
        except OSError:
            reply = None
        if reply is None or reply[0] != "ready":
            self.close()
            reason = "it exited (see its error above)" if reply is None else reply[1]
            raise StorageUnavailableError(f"the stream writer process did not start: {reason}")
        self.storage.adopt_writer(reply[1])

    @property
    def pid(self) -> int | None:
        """The child's process id (``None`` between a crash and the next batch)."""
        return None if self._child is None else self._child.pid

    def run(self, operations: list[Operation]) -> list[Any]:
        child = self._child
        if child is None or child.poll() is not None:
            try:
                self._start()
            except StorageUnavailableError as exc:
                return [exc] * len(operations)
            child = self._child
            assert child is not None
        assert child.stdin is not None and child.stdout is not None
        try:
            _send(child.stdin, operations)
            outcomes = _receive(child.stdout)
        except OSError:
            outcomes = None
        if outcomes is None:
            log.error("durable streams: the writer process exited during a batch; restarting")
            self.close()
            lost = StorageUnavailableError(
                "the stream writer process exited during the write; it was not acknowledged "
                "and may or may not be stored (a producer's retry is safe)"
            )
            return [lost] * len(operations)
        return outcomes  # type: ignore[no-any-return]

    def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            if child.stdin is not None:
                child.stdin.close()  # end of input: the child finishes and exits
            child.wait(EXIT_TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()
            child.wait()
        finally:
            if child.stdout is not None:
                child.stdout.close()


def _send(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next frame's value, ``None`` at end of input."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def _reply(stream: IO[bytes], outcomes: list[Any]) -> None:
    try:
        _send(stream, outcomes)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        # Should not happen (results are dataclasses, errors StreamErrors); if it does,
        # the batch still committed, but the server can only report a storage error.
        log.error("durable streams: a batch's outcome could not be sent back: %s", exc)
        _send(stream, [StorageUnavailableError(f"unsendable result: {exc}")] * len(outcomes))


def main() -> None:
    """The child: build the storage from the first frame, then run batches until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; it stops us
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    logging.basicConfig(level=logging.WARNING, format="solidtype stream writer: %(message)s")
    spec = _receive(requests)
    if spec is None:
        return
    name, args = spec
    module, _, class_name = name.partition(":")
    try:
        storage = getattr(importlib.import_module(module), class_name)(*args)
        connection = storage.connect(writer=True)
        identity = storage.start_writer_side(connection)
    except Exception as exc:
        _send(replies, ("error", f"{type(exc).__name__}: {exc}"))
        return
    _send(replies, ("ready", identity))
    try:
        while (operations := _receive(requests)) is not None:
            _reply(replies, storage.run_operations(connection, operations))
    except BrokenPipeError:
        pass  # the server went away
    finally:
        storage.stop_writer_side()
        connection.close()


if __name__ == "__main__":
    main()

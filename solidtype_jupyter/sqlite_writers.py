"""Writers of one SQLite database file in this process take turns, first come first served.

The durable streams' writer thread and the session repository's threads write the same
file. SQLite lets one connection write at a time and has no queue: a connection that finds
the lock taken can only try again later. Under load the stream writer retakes the lock
within microseconds of each commit, so the session repository either waited for seconds
(SQLite's busy handler backs off up to 100 ms between tries) or, polling every 0.5 ms from
four threads, burned the interpreter lock that the event loop needs: stream commits then
took up to 290 ms while 200 chats were streaming (BENCHMARKS.md, Chat).

Inside one process the writers can simply queue: the stream writer holds the gate for each
group commit, and a session-row write that found the database locked waits in line for the
gate, asleep, instead of polling. ``threading.Lock`` would not do: it is not fair, and the
stream writer, taking it again at once, could keep a waiting thread out indefinitely.
Writers in other processes still meet SQLite's lock and wait for it as before.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType


class SQLiteWriteGate:
    """A first-come-first-served lock (a ticket lock): ``with gate: ...``."""

    def __init__(self) -> None:
        self._turns = threading.Condition(threading.Lock())
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket != self._serving:
                self._turns.wait()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._turns:
            self._serving += 1
            self._turns.notify_all()


_gates: dict[str, SQLiteWriteGate] = {}
_gates_lock = threading.Lock()


def write_gate(database: str | Path) -> SQLiteWriteGate:
    """The gate of the SQLite file ``database`` (one per file in this process)."""
    key = os.path.realpath(database)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = SQLiteWriteGate()
        return gate

"""The SQL side shared by the SQLite and PostgreSQL backends.

Hot-path design (decided by measurement, see BENCHMARKS.md "Durable Streams"):

* The DBAPI directly (sqlite3, psycopg), not SQLAlchemy Core: an append is 4-6 short
  statements, and Core's per-statement compile/dispatch overhead was the largest cost in
  a micro-benchmark of the append transaction (about 3x the DBAPI time per append).
* One writer thread per database with group commit: every operation waiting in the queue
  joins one transaction, then one COMMIT acknowledges them all. With 10 concurrent writers
  this turns 10 commits into 1. The batch's stream rows are read with one query
  (``SQLTx.prefetch``), or on SQLite taken over from the previous batch when no other
  connection has written since (``commit_mark``); updates write only the columns an
  operation can change (``MUTABLE_COLUMNS``). Its message inserts and row updates are sent
  together at the end, and only if an operation is rejected does the batch run again with
  a SAVEPOINT per operation, so the rejected one rolls back alone
  (``ThreadedSQLStorage._run_batch``).
  The protocol logic (``streams.operations``) is plain synchronous code, so one
  implementation serves both databases; the thread keeps it off the event loop, which
  only awaits a future per operation. With ``writer_process`` (the server's choice on
  PostgreSQL) a child process (``writer_process.py``) runs the transactions instead of the
  thread, so that work also leaves the interpreter lock; it forms the group commits itself.
* Readers use a small thread pool with one connection each (SQLite WAL and PostgreSQL
  MVCC let them run beside the writer).

Other processes writing the same database (kernels, other servers) are serialized by the
database itself: ``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import StorageUnavailableError, StreamError
from ..records import ProducerState, ProducerTuple, StoredMessage, StreamRecord

if TYPE_CHECKING:
    from .writer_process import WriterProcess

T = TypeVar("T")
log = logging.getLogger(__name__)

STREAMS = "durable_streams"
MESSAGES = "durable_stream_messages"
PRODUCERS = "durable_stream_producers"

_COLUMNS = (
    "path, content_type, tail, created_at, last_access, closed, closed_by_producer, "
    "closed_by_epoch, closed_by_seq, stream_seq, ttl_seconds, expires_at, expires_at_ts, "
    "forked_from, forked_from_id, fork_offset, fork_sub_offset, ref_count, soft_deleted"
)
# The columns an operation may change once a stream exists (``streams.operations`` sets
# no others after ``insert_stream``): an update writes only these. Writing all 19 made
# SQLite bind twice the values and rewrite the ``path`` index entry on every append.
MUTABLE_COLUMNS = (
    "tail, last_access, closed, closed_by_producer, closed_by_epoch, closed_by_seq, "
    "stream_seq, ref_count, soft_deleted"
)
# PostgreSQL types of ``MUTABLE_COLUMNS``, in order (the array casts of ``array_writes``).
_MUTABLE_TYPES = ("bigint", "float8", "bool", "text", "bigint", "bigint", "text", "int", "bool")
MAX_BATCH = 256
#: The writer keeps the rows of at most this many streams between batches (about 1 KB each).
MAX_KEPT_ROWS = 10_000


def _row_values(record: StreamRecord) -> tuple[Any, ...]:
    closed_by = record.closed_by
    return (
        record.path,
        record.content_type,
        record.tail,
        record.created_at,
        record.last_access,
        record.closed,
        closed_by.producer_id if closed_by else None,
        closed_by.epoch if closed_by else None,
        closed_by.seq if closed_by else None,
        record.stream_seq,
        record.ttl_seconds,
        record.expires_at,
        record.expires_at_ts,
        record.forked_from,
        record.forked_from_id,
        record.fork_offset,
        record.fork_sub_offset,
        record.ref_count,
        record.soft_deleted,
    )


def _mutable_values(record: StreamRecord) -> tuple[Any, ...]:
    """``MUTABLE_COLUMNS``'s values, then the id (an UPDATE's parameters)."""
    by = record.closed_by
    closed_by = (by.producer_id, by.epoch, by.seq) if by else (None, None, None)
    return (
        record.tail,
        record.last_access,
        record.closed,
        *closed_by,
        record.stream_seq,
        record.ref_count,
        record.soft_deleted,
        record.id,
    )


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """``rows`` (at least one) transposed: one list per column, the arrays of an ``unnest``."""
    return [list(column) for column in zip(*rows, strict=True)]


def _record(row: Sequence[Any]) -> StreamRecord:
    return StreamRecord(
        id=int(row[0]),
        path=row[1],
        content_type=row[2],
        tail=int(row[3]),
        created_at=float(row[4]),
        last_access=float(row[5]),
        closed=bool(row[6]),
        closed_by=None if row[7] is None else ProducerTuple(row[7], int(row[8]), int(row[9])),
        stream_seq=row[10],
        ttl_seconds=None if row[11] is None else int(row[11]),
        expires_at=row[12],
        expires_at_ts=None if row[13] is None else float(row[13]),
        forked_from=row[14],
        forked_from_id=None if row[15] is None else int(row[15]),
        fork_offset=None if row[16] is None else int(row[16]),
        fork_sub_offset=int(row[17]),
        ref_count=int(row[18]),
        soft_deleted=bool(row[19]),
    )


class SQLTx:
    """``StorageTx`` over a DBAPI cursor; ``p`` is the driver's placeholder."""

    def __init__(
        self,
        cursor: Any,
        *,
        placeholder: str,
        lock_rows: bool,
        buffered: bool = False,
        array_writes: bool = False,
    ) -> None:
        self.c = cursor
        # Write-behind (only where a failed operation rolls back the whole transaction):
        # a batch's stream rows are read once and kept, message inserts and row updates
        # wait for ``flush`` and go out together (``executemany``, or one statement over
        # arrays), so an append adds to shared statements instead of running three.
        self._buffered = buffered
        self._rows: dict[int, StreamRecord] = {}
        self._ids: dict[str, int] = {}
        self._messages: list[tuple[int, int, bytes]] = []
        self._updates: dict[int, StreamRecord] = {}
        p = self._p = placeholder
        lock = " FOR UPDATE" if lock_rows else ""
        self._select_path = f"SELECT id, {_COLUMNS} FROM {STREAMS} WHERE path = {p}{lock}"
        self._select_id = f"SELECT id, {_COLUMNS} FROM {STREAMS} WHERE id = {p}{lock}"
        self._select_paths = (
            f"SELECT id, {_COLUMNS} FROM {STREAMS} WHERE path IN ({{marks}}) ORDER BY id{lock}"
        )
        marks = ", ".join([p] * 19)
        self._insert = f"INSERT INTO {STREAMS} ({_COLUMNS}) VALUES ({marks}) RETURNING id"
        names = [name.strip() for name in MUTABLE_COLUMNS.split(",")]
        sets = ", ".join(f"{name} = {p}" for name in names)
        self._update = f"UPDATE {STREAMS} SET {sets} WHERE id = {p}"
        self._insert_message = (
            f"INSERT INTO {MESSAGES} (stream_id, end_pos, data) VALUES ({p}, {p}, {p})"
        )
        # PostgreSQL (``array_writes``): a batch's row reads, inserts and updates as one
        # statement each over arrays, sent in binary (``%b``: psycopg's text format for
        # arrays cost 3.5 times as much). ``executemany`` runs a statement per row, and an
        # ``IN`` list is a new statement for every batch size, planned every time
        # (BENCHMARKS.md, Chat).
        self._array_writes = array_writes
        self._select_path_array = (
            f"SELECT id, {_COLUMNS} FROM {STREAMS} WHERE path = ANY(%b::text[]) ORDER BY id{lock}"
        )
        self._insert_messages = (
            f"INSERT INTO {MESSAGES} (stream_id, end_pos, data) "
            "SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bytea[])"
        )
        arrays = ", ".join(f"%b::{kind}[]" for kind in _MUTABLE_TYPES)
        self._update_streams = (
            f"UPDATE {STREAMS} AS s SET {', '.join(f'{n} = u.{n}' for n in names)} "
            f"FROM unnest({arrays}, %b::bigint[]) AS u({', '.join(names)}, id) "
            "WHERE s.id = u.id"
        )
        self._read = (
            f"SELECT end_pos, data FROM {MESSAGES} WHERE stream_id = {p} AND end_pos > {p} "
            f"AND end_pos <= {p} ORDER BY end_pos LIMIT {p}"
        )
        self._get_producer = (
            f"SELECT epoch, last_seq, updated_at FROM {PRODUCERS} "
            f"WHERE stream_id = {p} AND producer_id = {p}"
        )
        self._put_producer = (
            f"INSERT INTO {PRODUCERS} (stream_id, producer_id, epoch, last_seq, updated_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (stream_id, producer_id) DO UPDATE "
            "SET epoch = excluded.epoch, last_seq = excluded.last_seq, "
            "updated_at = excluded.updated_at"
        )
        self._delete = [
            f"DELETE FROM {MESSAGES} WHERE stream_id = {p}",
            f"DELETE FROM {PRODUCERS} WHERE stream_id = {p}",
            f"DELETE FROM {STREAMS} WHERE id = {p}",
        ]
        self.announced: list[str] = []

    def now(self) -> float:
        return time.time()

    def flush(self) -> None:
        """Send the buffered message inserts and row updates."""
        if self._messages:
            if self._array_writes:
                self.c.execute(self._insert_messages, _columns(self._messages))
            else:
                self.c.executemany(self._insert_message, self._messages)
            self._messages.clear()
        if self._updates:
            rows = [_mutable_values(r) for r in self._updates.values()]
            if self._array_writes:
                self.c.execute(self._update_streams, _columns(rows))
            else:
                self.c.executemany(self._update, rows)
            self._updates.clear()

    def _forget(self) -> None:
        self.flush()
        self._rows.clear()
        self._ids.clear()

    def prefetch(self, paths: Sequence[str]) -> None:
        """Read the rows of ``paths`` with one query (buffered mode): a batch of appends
        to 200 streams then costs one SELECT instead of 200."""
        wanted = [path for path in dict.fromkeys(paths) if path not in self._ids]
        queries: list[tuple[str, Sequence[Any]]] = []
        if self._array_writes:
            queries = [(self._select_path_array, (wanted,))] if wanted else []
        else:
            for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
                chunk = wanted[start : start + 500]
                marks = ", ".join([self._p] * len(chunk))
                queries.append((self._select_paths.format(marks=marks), chunk))
        for statement, parameters in queries:
            self.c.execute(statement, parameters)
            for row in self.c.fetchall():
                self._keep(_record(row))

    def get_stream(self, path: str) -> StreamRecord | None:
        if self._buffered:
            stream_id = self._ids.get(path)
            if stream_id is not None:
                return self._rows[stream_id].clone()
        self.c.execute(self._select_path, (path,))
        row = self.c.fetchone()
        return None if row is None else self._keep(_record(row))

    def get_stream_by_id(self, stream_id: int) -> StreamRecord | None:
        if self._buffered and stream_id in self._rows:
            return self._rows[stream_id].clone()
        self.c.execute(self._select_id, (stream_id,))
        row = self.c.fetchone()
        return None if row is None else self._keep(_record(row))

    def adopt(self, rows: dict[str, StreamRecord]) -> None:
        """Start from rows known to be the database's current ones (buffered mode): the
        writer's rows of its previous batch, when no other connection wrote since."""
        for path, record in rows.items():
            self._rows[record.id] = record
            self._ids[path] = record.id

    def kept(self) -> dict[str, StreamRecord]:
        """The rows this transaction read or wrote, by path, as they are at its end
        (records in ``_rows`` are replaced, never changed in place, so they can be shared)."""
        rows = self._rows
        return {path: rows[stream_id] for path, stream_id in self._ids.items()}

    def _keep(self, record: StreamRecord) -> StreamRecord:
        if self._buffered:
            self._rows[record.id] = record.clone()
            self._ids[record.path] = record.id
        return record

    def insert_stream(self, record: StreamRecord) -> int:
        self._forget()
        self.c.execute(self._insert, _row_values(record))
        row = self.c.fetchone()
        return int(row[0])

    def update_stream(self, record: StreamRecord) -> None:
        if self._buffered and record.id in self._rows:
            kept = record.clone()
            self._rows[record.id] = kept
            self._updates[record.id] = kept
            return
        self.c.execute(self._update, _mutable_values(record))

    def delete_stream(self, stream_id: int) -> None:
        self._forget()
        for statement in self._delete:
            self.c.execute(statement, (stream_id,))

    def insert_message(self, stream_id: int, end: int, data: bytes) -> None:
        if self._buffered:
            self._messages.append((stream_id, end, data))
            return
        self.c.execute(self._insert_message, (stream_id, end, data))

    def read_messages(
        self, stream_id: int, after: int, upto: int, limit_bytes: int
    ) -> list[StoredMessage]:
        self.flush()
        out: list[StoredMessage] = []
        size = 0
        batch = 64
        while True:
            self.c.execute(self._read, (stream_id, after, upto, batch))
            rows = self.c.fetchall()
            for row in rows:
                out.append(StoredMessage(*row))
                size += len(row[1])
                if size >= limit_bytes:
                    return out
            if len(rows) < batch:
                return out
            after = out[-1].end
            batch = min(batch * 4, 4096)

    def get_producer(self, stream_id: int, producer_id: str) -> ProducerState | None:
        self.c.execute(self._get_producer, (stream_id, producer_id))
        row = self.c.fetchone()
        return None if row is None else ProducerState(int(row[0]), int(row[1]), float(row[2]))

    def put_producer(self, stream_id: int, producer_id: str, state: ProducerState) -> None:
        self.c.execute(
            self._put_producer,
            (stream_id, producer_id, state.epoch, state.last_seq, state.updated_at),
        )

    def announce(self, path: str) -> None:
        self.announced.append(path)


# (function, its arguments after the transaction, the stream path it works on if known):
# plain data, so a batch can be pickled to the writer process.
Operation = tuple[Callable[..., Any], tuple[Any, ...], str | None]
# An operation with the future that waits for it and the future's loop.
_Job = tuple[Operation, "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class ThreadedSQLStorage:
    """Writer thread with group commit plus a reader pool; subclasses open connections.

    ``writer_process``: instead of the writer thread, a child process that owns the write
    connection (``writer_process.WriterProcess``, in ``process`` once started) runs them.
    The batch's Python work (the protocol, the statements) then runs outside this
    interpreter's lock, which the event loop needs for everything else; see
    BENCHMARKS.md, Chat. The server turns it on for PostgreSQL (``open_storage``).
    """

    name = "sql"
    placeholder = "?"
    lock_rows = False
    array_writes = False  # see ``SQLTx``: PostgreSQL only
    readers = 2

    def __init__(self, *, writer_process: bool = False) -> None:
        self.writer_process = writer_process
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_connections: list[Any] = []
        self._lock = threading.Lock()
        self.runner: LocalBatchRunner | None = None  # the writer thread's, once started
        self.process: WriterProcess | None = None  # with ``writer_process``, once started
        # Writer side: the stream rows as the last committed batch left them, valid while
        # ``commit_mark`` returns ``_rows_mark`` (see ``_attempt``).
        self._rows: dict[str, StreamRecord] = {}
        self._rows_mark: object | None = None

    # -- for subclasses
    def connect(self, *, writer: bool) -> Any:
        raise NotImplementedError

    def begin(self, connection: Any) -> None:
        raise NotImplementedError

    def cursor(self, connection: Any) -> Any:
        return connection.cursor()

    def commit_mark(self, connection: Any) -> object | None:
        """Hook, in a write transaction: a value that changes whenever another connection
        commits to the database, or ``None`` where there is none (PostgreSQL). While it
        stays the same, the writer's rows of its last batch are still the database's, and
        the next batch reuses them instead of reading them again."""
        return None

    def write_gate(self) -> AbstractContextManager[Any]:
        """Held by the writer thread around each batch (SQLite: ``sqlite_writers``)."""
        return contextlib.nullcontext()

    def after_commit(self, connection: Any, announced: list[str]) -> None:
        """Hook: cross-process announcements (PostgreSQL sends NOTIFY in the tx)."""

    def before_commit(self, tx: SQLTx) -> None:
        """Hook: called with the batch's transaction just before COMMIT."""

    def writer_spec(self) -> tuple[str, tuple[Any, ...]]:
        """How the writer process builds this storage: a ``module:Class`` name and the
        constructor's arguments."""
        raise NotImplementedError

    def start_writer_side(self, connection: Any) -> Any:
        """Hook, where the write connection lives (writer thread or process): start what
        needs it; the value returned goes to ``adopt_writer`` in the server process."""

    def stop_writer_side(self) -> None:
        """Hook: stop what ``start_writer_side`` started."""

    def adopt_writer(self, identity: Any) -> None:
        """Hook: what the writer process's ``start_writer_side`` returned."""

    # -- lifecycle
    def start_threads(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None]
        if self.writer_process:
            from .writer_process import WriterProcess

            self.process = WriterProcess(self)
            ready = asyncio.ensure_future(self.process.start())
        else:
            ready = loop.create_future()
            self._writer = threading.Thread(
                target=self._write_loop,
                args=(loop, ready),
                name=f"{self.name}-stream-writer",
                daemon=True,
            )
            self._writer.start()
        self._pool = ThreadPoolExecutor(
            self.readers, thread_name_prefix=f"{self.name}-stream-reader"
        )
        self._ready = ready

    async def stop_threads(self) -> None:
        if self.process is not None:
            await self.process.close()
        if self._writer is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            for connection in self._reader_connections:
                connection.close()
            self._reader_connections.clear()

    # -- writes
    async def write(self, function: Callable[..., T], *args: Any, path: str | None = None) -> T:
        loop = asyncio.get_running_loop()
        process = self.process
        if process is not None:
            if process.loop is loop:
                return await process.write((function, args, path))  # type: ignore[no-any-return]
            # From another thread's loop: the child's pipes belong to the server's loop.
            home = process.loop
            assert home is not None, "storage not started"
            call = process.write((function, args, path))
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, home))
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(((function, args, path), future, loop))
        return await future

    def _write_loop(self, loop: asyncio.AbstractEventLoop, ready: asyncio.Future[None]) -> None:
        try:
            runner = self.runner = LocalBatchRunner(self)
        except Exception as exc:
            loop.call_soon_threadsafe(_settle, ready, exc)
            return
        loop.call_soon_threadsafe(_settle, ready, None)
        gate = self.write_gate()
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                batch = [job]
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._jobs.put(None)
                        break
                    batch.append(more)
                with gate:
                    outcomes = runner.run([operation for operation, _, _ in batch])
                by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any]]] = {}
                for (_, future, job_loop), outcome in zip(batch, outcomes, strict=True):
                    by_loop.setdefault(job_loop, []).append((future, outcome))
                for job_loop, settled in by_loop.items():
                    job_loop.call_soon_threadsafe(_settle_all, settled)
        finally:
            runner.close()

    def run_operations(self, connection: Any, operations: list[Operation]) -> list[Any]:
        """Run a batch in one transaction; each outcome is a result or the exception
        to raise. If the transaction itself fails, each operation is tried alone."""
        outcomes = self._run_batch(connection, operations)
        if outcomes is None:
            outcomes = []
            for single in operations:
                result = self._run_batch(connection, [single])
                outcomes.extend(result or [StorageUnavailableError("database error")])
        return outcomes

    def _run_batch(self, connection: Any, batch: list[Operation]) -> list[Any] | None:
        """Run ``batch`` in one transaction; ``None`` if the transaction itself failed.

        First without savepoints (on PostgreSQL SAVEPOINT and RELEASE were a third of the
        writer's time under many concurrent streams): if every operation succeeds that is
        the whole cost. If one is rejected, the transaction rolls back and the batch runs
        again with each operation under a SAVEPOINT so the rejected one rolls back alone
        (operations are functions of the database state, so running one again is safe:
        nothing of the first attempt was committed).
        """
        if len(batch) > 1:
            outcomes = self._attempt(connection, batch, savepoints=False)
            if outcomes is not _REJECTED:
                return outcomes  # type: ignore[return-value]
        result = self._attempt(connection, batch, savepoints=len(batch) > 1)
        assert result is not _REJECTED
        return result  # type: ignore[return-value]

    def _attempt(self, connection: Any, batch: list[Operation], *, savepoints: bool) -> object:
        """One try at ``batch``: the outcomes, ``None`` (transaction failed) or, without
        savepoints in a batch of several, ``_REJECTED`` when an operation raised."""
        cursor = self.cursor(connection)
        tx = SQLTx(
            cursor,
            placeholder=self.placeholder,
            lock_rows=self.lock_rows,
            buffered=not savepoints,
            array_writes=self.array_writes,
        )
        single = len(batch) == 1
        outcomes: list[Any] = []
        previous_mark, self._rows_mark = self._rows_mark, None  # until this batch commits
        try:
            self.begin(connection)
            mark = None if savepoints else self.commit_mark(connection)
            if mark is not None and mark == previous_mark:
                tx.adopt(self._rows)
            if not savepoints and not single:
                tx.prefetch([path for _, _, path in batch if path is not None])
            for function, args, _ in batch:
                if savepoints:
                    cursor.execute("SAVEPOINT op")
                announced = len(tx.announced)
                try:
                    outcomes.append(function(tx, *args))
                    if savepoints:
                        cursor.execute("RELEASE SAVEPOINT op")
                except Exception as exc:
                    if not savepoints:
                        connection.rollback()
                        return [_operation_error(exc)] if single else _REJECTED
                    cursor.execute("ROLLBACK TO SAVEPOINT op")
                    cursor.execute("RELEASE SAVEPOINT op")
                    del tx.announced[announced:]
                    outcomes.append(_operation_error(exc))
            tx.flush()
            self.before_commit(tx)
            connection.commit()
        except Exception:
            log.exception("durable streams: a write transaction failed")
            try:
                connection.rollback()
            except Exception:
                log.exception("durable streams: rollback failed")
            return None
        finally:
            cursor.close()
        if mark is not None:
            rows = tx.kept()
            self._rows = rows if len(rows) <= MAX_KEPT_ROWS else {}
            self._rows_mark = mark
        self.after_commit(connection, tx.announced)
        return outcomes

    # -- reads
    async def read(self, operation: Callable[[SQLTx], T]) -> T:
        assert self._pool is not None, "storage not started"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._read_in_thread, operation)

    def _read_in_thread(self, operation: Callable[[SQLTx], T]) -> T:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.connect(writer=False)
            self._local.connection = connection
            with self._lock:
                self._reader_connections.append(connection)
        cursor = self.cursor(connection)
        try:
            return operation(SQLTx(cursor, placeholder=self.placeholder, lock_rows=False))
        finally:
            cursor.close()
            connection.rollback()


class LocalBatchRunner:
    """The writer thread's connection, and its batches run on it."""

    def __init__(self, storage: ThreadedSQLStorage) -> None:
        self.storage = storage
        self.connection = storage.connect(writer=True)
        storage.adopt_writer(storage.start_writer_side(self.connection))

    def run(self, operations: list[Operation]) -> list[Any]:
        return self.storage.run_operations(self.connection, operations)

    def close(self) -> None:
        self.storage.stop_writer_side()
        self.connection.close()


_REJECTED = object()


def _operation_error(exc: Exception) -> Exception:
    """A rejected request stays as it is; anything else is a storage failure (503)."""
    if isinstance(exc, StreamError):
        return exc
    log.error("durable stream operation failed", exc_info=exc)
    return StorageUnavailableError(f"storage error: {exc}")


def _settle(future: asyncio.Future[Any], outcome: Any) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _settle_all(settled: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in settled:
        _settle(future, outcome)

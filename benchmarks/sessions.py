"""Chat session store at scale: 1,000,000 sessions of 1,000 users, on SQLite and PostgreSQL.

Measures, through ``ChatSessionRepository`` (the code path the routes use):

* list: the 50 newest sessions of one user (random user per call), and of one user in one
  context (``?context=editor``); p50/p95 over ``--iterations`` calls;
* create: one new session (random user); p50/p95.

and prints the query plans of both listings. With ``--compare-async`` it also runs the list
through SQLAlchemy's asyncio engine (aiosqlite / psycopg async) and through the sync engine
called directly on the loop thread (no thread hop: the floor of any approach), so the choice
of ``store.threaded.ThreadedDatabase`` is measured, not assumed. That needs ``aiosqlite`` and
``greenlet``, which the product does not depend on: install them aside, e.g.
``pip install --target /tmp/bench-async aiosqlite greenlet`` and run with
``PYTHONPATH=/tmp/bench-async``.

Databases: a temporary SQLite file (removed after), and a dedicated PostgreSQL database
``solidtype_bench`` created on the server of ``--postgres-url`` and dropped after.

    .venv/bin/python benchmarks/sessions.py [--backend sqlite|postgresql|both]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--users 1000] [--per-user 1000] [--iterations 2000] [--compare-async]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from solidtype_jupyter.store import ChatSessionRepository, ThreadedDatabase, upgrade_schema
from solidtype_jupyter.store.database import create_sync_engine, explain_plan
from solidtype_jupyter.store.schema import ai_chat_sessions
from solidtype_jupyter.store.sessions import ChatSession, list_query

BENCH_DATABASE = "solidtype_bench"
START = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = (
    "id",
    "user_id",
    "context",
    "status",
    "title",
    "message_count",
    "last_message_at",
    "durable_stream_id",
    "created_at",
    "updated_at",
)


def user_name(index: int) -> str:
    return f"user-{index:04d}"


def session_rows(users: int, per_user: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """Every user's sessions, with distinct update times spread over a year."""
    rng = random.Random(seed)
    for user in range(users):
        name = user_name(user)
        for n in range(per_user):
            session_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            created = START + timedelta(seconds=n * 30_000 + user)
            updated = created + timedelta(seconds=rng.randrange(0, 20_000))
            yield (
                session_id,
                name,
                "editor" if rng.random() < 0.5 else "dashboard",
                "archived" if rng.random() < 0.2 else "active",
                f"Session {n} of {name}",
                rng.randrange(0, 40),
                updated,
                f"ai-chat/{session_id}",
                created,
                updated,
            )


def chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fill_sqlite(url: str, users: int, per_user: int) -> None:
    """executemany through SQLAlchemy Core (the same bind processing as the repository: UUID,
    enum and UTC timestamp types), all in one transaction."""
    engine = create_sync_engine(url)
    statement = sa.insert(ai_chat_sessions)
    with engine.begin() as connection:
        for chunk in chunks(session_rows(users, per_user), 50_000):
            connection.execute(statement, [dict(zip(COLUMNS, row, strict=True)) for row in chunk])
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def fill_postgres(url: str, users: int, per_user: int) -> None:
    """COPY, binary-adapted by psycopg (uuid, timestamptz, enum as text)."""
    engine = create_sync_engine(url)
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        with connection.cursor() as cursor:
            copy_sql = f"COPY ai_chat_sessions ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for row in session_rows(users, per_user):
                    copy.write_row(row)
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE ai_chat_sessions")
    finally:
        raw.close()
        engine.dispose()


async def timed(call: Callable[[], Awaitable[Any]], iterations: int) -> list[float]:
    for _ in range(min(50, iterations)):
        await call()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"  {label:<44} p50 {p50:7.3f} ms   p95 {p95:7.3f} ms   (n={len(ordered)})"


async def measure(url: str, args: argparse.Namespace) -> list[str]:
    rng = random.Random(11)
    lines = []
    database = ThreadedDatabase(url)
    repository = ChatSessionRepository(database)
    try:
        newest = await repository.list(user_name(3))
        assert len(newest) == 50
        assert all(a.updated_at >= b.updated_at for a, b in itertools.pairwise(newest))

        async def list_any() -> None:
            found = await repository.list(user_name(rng.randrange(args.users)))
            assert len(found) == 50

        async def list_editor() -> None:
            await repository.list(user_name(rng.randrange(args.users)), context="editor")

        async def create_one() -> None:
            await repository.create(user_name(rng.randrange(args.users)), "editor")

        lines.append(
            summary(
                "list 50 newest (repository, thread pool)", await timed(list_any, args.iterations)
            )
        )
        lines.append(
            summary("list 50 newest, context=editor", await timed(list_editor, args.iterations))
        )
        lines.append(summary("create one session", await timed(create_one, args.creates)))
        if args.compare_async:
            lines.extend(await compare_async(url, database, args))
    finally:
        database.close()
    return lines


async def compare_async(
    url: str, database: ThreadedDatabase, args: argparse.Namespace
) -> list[str]:
    """The same list query three ways, to justify the thread pool."""
    from sqlalchemy.ext.asyncio import create_async_engine

    rng = random.Random(13)
    lines = []

    async def direct() -> None:
        # No thread hop: blocks the loop for the whole query (what we must not do in the
        # server), shown as the floor.
        with database.engine.connect() as connection:
            query = list_query(user_name(rng.randrange(args.users)))
            [ChatSession.from_row(row) for row in connection.execute(query).mappings()]

    lines.append(
        summary("list, sync engine on the loop (floor)", await timed(direct, args.iterations))
    )

    if database.backend == "sqlite":
        async_url = sa.make_url(url).set(drivername="sqlite+aiosqlite")
    else:
        async_url = sa.make_url(url).set(drivername="postgresql+psycopg")
    engine = create_async_engine(async_url, pool_size=4, max_overflow=0)
    try:

        async def via_async() -> None:
            async with engine.connect() as connection:
                query = list_query(user_name(rng.randrange(args.users)))
                result = await connection.execute(query)
                [ChatSession.from_row(row) for row in result.mappings()]

        lines.append(
            summary("list, SQLAlchemy asyncio engine", await timed(via_async, args.iterations))
        )
    finally:
        await engine.dispose()
    return lines


def plans(url: str) -> list[str]:
    engine = create_sync_engine(url)
    lines = []
    try:
        with engine.connect() as connection:
            for label, query in (
                ("list", list_query(user_name(3))),
                ("list context=editor", list_query(user_name(3), "editor")),
            ):
                lines.append(f"  plan, {label}:")
                lines.extend(f"    {line}" for line in explain_plan(connection, query))
    finally:
        engine.dispose()
    return lines


def run_backend(backend: str, url: str, args: argparse.Namespace) -> None:
    total = args.users * args.per_user
    print(f"\n== {backend}: {total:,} sessions, {args.users:,} users", flush=True)
    upgrade_schema(url)
    start = time.perf_counter()
    (fill_sqlite if backend == "sqlite" else fill_postgres)(url, args.users, args.per_user)
    print(f"  fill: {time.perf_counter() - start:.1f} s", flush=True)
    for line in plans(url):
        print(line, flush=True)
    for line in asyncio.run(measure(url, args)):
        print(line, flush=True)


def postgres_bench_url(admin_url: str) -> tuple[sa.Engine, str]:
    admin = create_sync_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
        version = connection.exec_driver_sql("SHOW server_version").scalar()
    print(f"PostgreSQL {version}", flush=True)
    url = sa.make_url(admin_url).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    return admin, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SOLIDTYPE_TEST_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres",
        help="an admin URL of the PostgreSQL server (the benchmark makes its own database)",
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=2000, help="list calls per figure")
    parser.add_argument("--creates", type=int, default=1000, help="create calls")
    parser.add_argument("--compare-async", action="store_true")
    args = parser.parse_args()
    print(f"sessions benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, nproc {os.cpu_count()}")

    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="solidtype-bench-") as folder:
            print(f"SQLite {sqlite3.sqlite_version}")
            run_backend("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args)
    if args.backend in ("postgresql", "both"):
        admin, url = postgres_bench_url(args.postgres_url)
        try:
            run_backend("postgresql", url, args)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(
                    f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'
                )
            admin.dispose()


if __name__ == "__main__":
    main()

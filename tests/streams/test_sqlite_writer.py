"""SQLite specifics of the stream writer: waiting for another connection's write lock, and
checkpoints kept off the writer thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from solidtype_jupyter.store.database import upgrade_schema
from solidtype_jupyter.streams import json_values, open_engine
from solidtype_jupyter.streams.storage import sqlite as sqlite_storage
from solidtype_jupyter.streams.storage.sqlite import CHECKPOINT_SECONDS

JSON = "application/json"


def database_file(sqlite_url: str) -> Path:
    return Path(sqlite_url.removeprefix("sqlite:///"))


async def test_an_append_waits_for_another_writers_lock(sqlite_url: str) -> None:
    upgrade_schema(sqlite_url)
    engine = open_engine(sqlite_url)
    await engine.start()
    try:
        await engine.create("locked", content_type=JSON)
        other = sqlite3.connect(database_file(sqlite_url), isolation_level=None,
                                check_same_thread=False)  # fmt: skip
        other.execute("BEGIN IMMEDIATE")  # e.g. the session repository, mid-transaction
        released = threading.Event()

        def release_later() -> None:
            time.sleep(0.3)
            released.set()
            other.execute("COMMIT")

        threading.Thread(target=release_later).start()
        result = await engine.append("locked", b'{"n":1}', content_type=JSON)
        assert released.is_set()  # it waited for the lock instead of failing
        assert result.appended
        other.close()
    finally:
        await engine.close()


async def test_checkpoints_copy_the_wal_into_the_database_file(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_storage, "CHECKPOINT_ROWS", 1)  # at once, not after 2,000 rows
    upgrade_schema(sqlite_url)
    engine = open_engine(sqlite_url)
    await engine.start()
    try:
        await engine.create("checkpointed", content_type=JSON)
        await engine.append("checkpointed", b'{"n":1}', content_type=JSON)
        # `immutable` reads the database file alone, ignoring the WAL: the row is there
        # only once a checkpoint has copied it (the writer itself no longer does).
        uri = f"file:{database_file(sqlite_url)}?mode=ro&immutable=1"
        found = []
        for _ in range(int(10 / CHECKPOINT_SECONDS)):
            await asyncio.sleep(CHECKPOINT_SECONDS)
            reader = sqlite3.connect(uri, uri=True)
            found = reader.execute(
                "SELECT path FROM durable_streams WHERE path = 'checkpointed'"
            ).fetchall()
            reader.close()
            if found:
                break
        assert found == [("checkpointed",)]
    finally:
        await engine.close()


async def test_the_poll_for_other_processes_ignores_our_own_appends(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has no notifications, so a poll compares the database with this process's
    cache. Our own append, committed but not yet in the cache, is not news: reporting it
    dropped the cache and sent every reader to the database. Another process's is."""
    monkeypatch.setattr(sqlite_storage, "REMOTE_POLL_SECONDS", 0.001)  # poll all the time
    read_states = sqlite_storage._states

    def slow_states(cursor, paths):  # our appends go on between the poll's start and read
        time.sleep(0.005)
        return read_states(cursor, paths)

    monkeypatch.setattr(sqlite_storage, "_states", slow_states)
    upgrade_schema(sqlite_url)
    engine = open_engine(sqlite_url, long_poll_timeout=5.0)
    other = open_engine(sqlite_url)  # stands for a kernel writing to the same file
    await engine.start()
    await other.start()
    reported: list[str | None] = []
    changed = engine.live.changed
    monkeypatch.setattr(engine.live, "changed", lambda path: (reported.append(path), changed(path)))
    try:
        await engine.create("busy", content_type=JSON)
        await engine.append("busy", b'{"n":0}', content_type=JSON)
        seen: list[bytes] = []

        async def follow() -> None:
            async for batch in engine.tail("busy", "-1"):
                seen.extend(m.data for m in batch.messages)
                if len(seen) == 202:
                    return

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.05)
        reported.clear()
        for n in range(1, 201):
            await engine.append("busy", f'{{"n":{n}}}'.encode(), content_type=JSON)
            await asyncio.sleep(0.002)  # paced, as a live stream is: polls fall between
        assert reported == []  # 200 appends, polled every millisecond: never "changed"
        await other.append("busy", b'{"n":"other"}', content_type=JSON)
        await asyncio.wait_for(following, 5.0)
        assert "busy" in reported  # the other process's append was noticed
        assert [v["n"] for m in seen for v in json_values(m)] == [*range(201), "other"]
    finally:
        await other.close()
        await engine.close()

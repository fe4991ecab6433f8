"""``StreamEngine`` on every backend: the protocol's semantics through the Python API."""

from __future__ import annotations

import asyncio
import json

import pytest

from solidtype_jupyter.streams import (
    InvalidRequestError,
    ProducerSequenceGapError,
    ProducerTuple,
    StaleProducerEpochError,
    StreamClosedError,
    StreamConflictError,
    StreamGoneError,
    StreamNotFoundError,
    format_offset,
    json_array,
    json_values,
    open_engine,
    parse_offset,
)

JSON = "application/json"


def values(result) -> list:
    return [v for m in result.messages for v in json_values(m.data)]


async def started(url: str, **options):
    engine = open_engine(url, long_poll_timeout=2.0, **options)
    await engine.start()
    return engine


async def test_append_and_read_json_batches(streams_url):
    engine = await started(streams_url)
    try:
        created = await engine.create("ai-chat/one", content_type=JSON, data=b"[]")
        assert created.created and created.info.next_offset == format_offset(0)
        again = await engine.create("ai-chat/one", content_type="application/json; charset=utf-8")
        assert not again.created
        offsets = []
        for body in (b'{"a":1}', b'[{"b":2},{"c":3}]', b"[[1,2],[3]]", b"[[[4]]]"):
            result = await engine.append("ai-chat/one", body, content_type=JSON)
            offsets.append(result.info.next_offset)
        assert offsets == sorted(offsets) and len(set(offsets)) == 4
        assert all(len(o) == len(offsets[0]) for o in offsets)
        read = await engine.read("ai-chat/one")
        assert values(read) == [{"a": 1}, {"b": 2}, {"c": 3}, [1, 2], [3], [[4]]]
        assert read.up_to_date and read.next_offset == offsets[-1]
        middle = await engine.read("ai-chat/one", offsets[1])
        assert values(middle) == [[1, 2], [3], [[4]]]
        tail = await engine.read("ai-chat/one", "now")
        assert tail.messages == [] and tail.next_offset == offsets[-1]
        with pytest.raises(InvalidRequestError):
            await engine.append("ai-chat/one", b"[]", content_type=JSON)
        with pytest.raises(InvalidRequestError):
            await engine.append("ai-chat/one", b"{nope", content_type=JSON)
        with pytest.raises(StreamConflictError):
            await engine.append("ai-chat/one", b"x", content_type="text/plain")
        with pytest.raises(StreamConflictError):
            await engine.create("ai-chat/one", content_type="text/plain")
        with pytest.raises(InvalidRequestError):
            await engine.read("ai-chat/one", "1,2")
        assert (await engine.read("ai-chat/one")).next_offset == offsets[-1]  # nothing stored
    finally:
        await engine.close()


async def test_stream_seq_and_idempotent_producers(streams_url):
    engine = await started(streams_url)
    try:
        await engine.create("s", content_type="text/plain")
        await engine.append("s", b"a", content_type="text/plain", stream_seq="09")
        with pytest.raises(StreamConflictError):
            await engine.append("s", b"b", content_type="text/plain", stream_seq="09")
        await engine.append("s", b"b", content_type="text/plain", stream_seq="10")

        first = await engine.append(
            "s", b"c", content_type="text/plain", producer=ProducerTuple("p", 0, 0)
        )
        assert not first.duplicate
        retry = await engine.append(
            "s", b"c", content_type="text/plain", producer=ProducerTuple("p", 0, 0)
        )
        assert retry.duplicate and retry.info.next_offset == first.info.next_offset
        with pytest.raises(ProducerSequenceGapError) as gap:
            await engine.append(
                "s", b"d", content_type="text/plain", producer=ProducerTuple("p", 0, 2)
            )
        assert (gap.value.expected, gap.value.received) == (1, 2)
        await engine.append("s", b"d", content_type="text/plain", producer=ProducerTuple("p", 1, 0))
        with pytest.raises(StaleProducerEpochError) as stale:
            await engine.append(
                "s", b"e", content_type="text/plain", producer=ProducerTuple("p", 0, 1)
            )
        assert stale.value.current_epoch == 1
        read = await engine.read("s")
        assert b"".join(m.data for m in read.messages) == b"abcd"
    finally:
        await engine.close()


async def test_close_long_poll_and_tail(streams_url):
    engine = await started(streams_url)
    try:
        await engine.create("live", content_type="text/plain", data=b"x")
        empty = await engine.long_poll("live", "now", wait_seconds=0.2)
        assert empty.timed_out and empty.read.messages == []

        async def later() -> None:
            await asyncio.sleep(0.1)
            await engine.append("live", b"y", content_type="text/plain")

        task = asyncio.create_task(later())
        polled = await engine.long_poll("live", empty.read.next_offset, wait_seconds=5)
        await task
        assert not polled.timed_out and [m.data for m in polled.read.messages] == [b"y"]

        seen: list[bytes] = []

        async def reader() -> bool:
            async for batch in engine.tail("live", "-1"):
                seen.extend(m.data for m in batch.messages)
                if batch.closed:
                    return True
            return False

        reading = asyncio.create_task(reader())
        await asyncio.sleep(0.1)
        for chunk in (b"1", b"2", b"3"):
            await engine.append("live", chunk, content_type="text/plain")
        await engine.append("live", b"!", content_type="text/plain", close=True)
        assert await asyncio.wait_for(reading, 5)
        assert seen == [b"x", b"y", b"1", b"2", b"3", b"!"]
        with pytest.raises(StreamClosedError):
            await engine.append("live", b"z", content_type="text/plain")
        closed = await engine.long_poll("live", "now", wait_seconds=5)
        assert closed.read.closed and not closed.read.messages
        assert (await engine.close_stream("live")).info.closed  # idempotent
    finally:
        await engine.close()


async def test_forks_soft_delete_and_cascade(streams_url):
    engine = await started(streams_url)
    try:
        await engine.create("src", content_type="text/plain", data=b"hello")
        mid = (await engine.append("src", b" world", content_type="text/plain")).info.next_offset
        await engine.append("src", b"!", content_type="text/plain")
        await engine.create("fork", forked_from="src", fork_offset=mid)
        await engine.append("fork", b"?", content_type="text/plain")
        fork = await engine.read("fork")
        assert b"".join(m.data for m in fork.messages) == b"hello world?"
        sub = await engine.create(
            "sub", forked_from="src", fork_offset=format_offset(0), fork_sub_offset=3
        )
        assert sub.info.content_type == "text/plain"
        assert b"".join(m.data for m in (await engine.read("sub")).messages) == b"hel"

        await engine.delete("src")
        with pytest.raises(StreamGoneError):
            await engine.read("src")
        with pytest.raises(StreamConflictError):
            await engine.create("src", content_type="text/plain")
        assert b"".join(m.data for m in (await engine.read("fork")).messages) == b"hello world?"
        await engine.delete("fork")
        with pytest.raises(StreamGoneError):
            await engine.head("src")  # "sub" still reads it
        await engine.delete("sub")
        with pytest.raises(StreamNotFoundError):
            await engine.head("src")  # the last fork went: the source is collected
        await engine.create("src", content_type="text/plain")  # the path is free again
        await engine.delete("never-created", missing_ok=True)
        with pytest.raises(StreamNotFoundError):
            await engine.delete("never-created")
    finally:
        await engine.close()


async def test_ttl_slides_on_reads_and_expires(streams_url):
    engine = await started(streams_url)
    try:
        await engine.create("ttl", content_type="text/plain", ttl_seconds=1)
        for _ in range(3):
            await asyncio.sleep(0.5)
            await engine.read("ttl", "now")  # each read renews the lease
        assert (await engine.head("ttl")).ttl_seconds == 1
        await asyncio.sleep(1.2)
        with pytest.raises(StreamNotFoundError):
            await engine.head("ttl")
        await engine.create("ttl", content_type="application/json")  # expired: reusable
    finally:
        await engine.close()


async def test_concurrent_appends_are_group_committed_without_loss(streams_url):
    engine = await started(streams_url)
    try:
        await engine.create("many", content_type=JSON)
        bodies = [json.dumps({"n": n}).encode() for n in range(200)]
        bad = [b"{broken"] * 5
        results = await asyncio.gather(
            *(engine.append("many", body, content_type=JSON) for body in bodies + bad),
            return_exceptions=True,
        )
        good = results[: len(bodies)]
        assert all(not isinstance(r, BaseException) for r in good)
        assert all(isinstance(r, InvalidRequestError) for r in results[len(bodies) :])
        offsets = [r.info.next_offset for r in good]
        assert len(set(offsets)) == len(bodies)
        read = await engine.read("many")
        assert sorted(v["n"] for v in values(read)) == list(range(200))
        assert [parse_offset(format_offset(m.end)) for m in read.messages] == sorted(
            m.end for m in read.messages
        )
        assert json.loads(json_array([m.data for m in read.messages]))[0] in (
            {"n": n} for n in range(200)
        )
    finally:
        await engine.close()


async def test_one_group_commit_over_many_streams_keeps_every_row(streams_url):
    """Appends to many streams at once share a group commit, which reads their rows with one
    query and writes them back together: every column of every row must survive it, NULLs
    (no TTL, not forked) and values alike."""
    engine = await started(streams_url)
    try:
        await engine.create("rows/plain", content_type=JSON)
        await engine.create("rows/ttl", content_type=JSON, ttl_seconds=3600)
        await engine.create("rows/until", content_type=JSON, expires_at="2999-01-01T00:00:00Z")
        await engine.append("rows/plain", b'{"seed":1}', content_type=JSON)
        await engine.create("rows/fork", content_type=JSON, forked_from="rows/plain")
        paths = ["rows/plain", "rows/ttl", "rows/until", "rows/fork"]
        paths += [f"rows/n{n}" for n in range(40)]
        for path in paths[4:]:
            await engine.create(path, content_type=JSON)
        before = {path: await engine.head(path) for path in paths}
        rounds = 3
        await asyncio.gather(
            *(
                engine.append_json_values(path, [json.dumps({"path": path, "round": r})])
                for r in range(rounds)
                for path in paths
            )
        )
        if streams_url != "memory://":  # read back what was committed, in a new engine
            await engine.close()
            engine = await started(streams_url)
        for path in paths:
            info = await engine.head(path)
            old = before[path]
            assert (info.ttl_seconds, info.expires_at, info.content_type) == (
                old.ttl_seconds,
                old.expires_at,
                old.content_type,
            )
            assert parse_offset(info.next_offset) > parse_offset(old.next_offset)
            read = await engine.read(path)
            mine = [v for v in values(read) if v.get("path") == path]
            assert [v["round"] for v in mine] == list(range(rounds))
        forked = await engine.read("rows/fork")
        assert values(forked)[0] == {"seed": 1}  # the fork still reads its source
    finally:
        await engine.close()


async def test_trusted_json_values_store_what_append_stores(streams_url):
    engine = await started(streams_url)
    try:
        await engine.create("a", content_type=JSON)
        await engine.create("b", content_type=JSON)
        texts = ['{"k":"é"}', "[1,2]", '"x"']
        await engine.append("a", ("[" + ",".join(texts) + "]").encode(), content_type=JSON)
        await engine.append_json_values("b", texts)
        a, b = await engine.read("a"), await engine.read("b")
        assert [m.data for m in a.messages] == [m.data for m in b.messages]
        assert a.next_offset == b.next_offset
        with pytest.raises(InvalidRequestError):
            await engine.append_json_values("b", [])
        await engine.create("text", content_type="text/plain")
        with pytest.raises(StreamConflictError):
            await engine.append_json_values("text", ['{"a":1}'])
    finally:
        await engine.close()


async def test_live_readers_in_another_engine_see_appends(durable_url):
    """Two engines on one database stand for two processes (a server and a kernel, or two
    servers): PostgreSQL wakes the reader through NOTIFY, SQLite through its poll."""
    writer = await started(durable_url)
    reader = await started(durable_url)
    try:
        await writer.create("shared", content_type="text/plain")
        seen: list[bytes] = []

        async def follow() -> None:
            async for batch in reader.tail("shared", "-1"):
                seen.extend(m.data for m in batch.messages)
                if batch.closed:
                    return

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.2)
        for chunk in (b"a", b"b"):
            await writer.append("shared", chunk, content_type="text/plain")
            await asyncio.sleep(0.05)
        await writer.close_stream("shared")
        # Well under the reader's 2 s idle re-read: only a cross-process wake-up is in time.
        await asyncio.wait_for(following, 1.0)
        assert seen == [b"a", b"b"]
    finally:
        await reader.close()
        await writer.close()


async def test_writers_of_one_database_take_turns_on_a_stream(durable_url, caplog):
    """The SQLite writer reuses the rows of its last batch while no other connection has
    written (``commit_mark``): what another engine (a kernel, another server) did in
    between must be seen: its appends (else an offset repeats: the insert fails, and only
    the retry of the lone operation saves it) and its close (else we reopen the stream)."""
    first = await started(durable_url)
    second = await started(durable_url)
    try:
        await first.create("turns", content_type=JSON)
        expected = []
        for n in range(6):
            engine = first if n % 3 else second
            result = await engine.append("turns", json.dumps({"n": n}).encode(), content_type=JSON)
            assert result.start == (expected[-1] if expected else 0)
            expected.append(result.info.tail)
        for engine in (first, second):
            read = await engine.read("turns")
            assert [v["n"] for v in values(read)] == list(range(6))
            assert [m.end for m in read.messages] == expected
        await second.close_stream("turns")
        with pytest.raises(StreamClosedError):
            await first.append("turns", b'{"n":6}', content_type=JSON)
        assert (await first.head("turns")).closed
        assert not [r for r in caplog.records if r.levelname == "ERROR"]
    finally:
        await first.close()
        await second.close()


async def test_a_rejected_operation_leaves_no_trace_in_the_next_batch(streams_url):
    """A batch with a rejected operation rolls back and runs again one savepoint at a time:
    the rows the first try changed must not be reused by the next batch."""
    engine = await started(streams_url)
    try:
        for path in ("ok/a", "ok/b"):
            await engine.create(path, content_type=JSON)
        await engine.create("ok/text", content_type="text/plain")
        for _ in range(3):
            results = await asyncio.gather(
                engine.append("ok/a", b'{"a":1}', content_type=JSON),
                engine.append("ok/text", b'{"x":1}', content_type=JSON),  # wrong type
                engine.append("ok/b", b'{"b":1}', content_type=JSON),
                return_exceptions=True,
            )
            assert isinstance(results[1], StreamConflictError)
        for path in ("ok/a", "ok/b"):
            read = await engine.read(path)
            assert len(values(read)) == 3
            assert [m.end for m in read.messages] == [8, 16, 24]  # '{"a":1},' is 8 bytes
            assert (await engine.head(path)).tail == 24
        assert (await engine.head("ok/text")).tail == 0
    finally:
        await engine.close()


async def test_a_group_commit_keeps_closes_by_producers_and_stream_seqs(streams_url):
    """The columns a group commit writes back besides the tail: the producer that closed a
    stream (its retry of the close is a duplicate, anyone else's append is refused) and the
    last Stream-Seq, for many streams in one batch (PostgreSQL writes them as arrays)."""
    engine = await started(streams_url)
    closing = [f"batch/closed{n}" for n in range(8)]
    sequenced = [f"batch/seq{n}" for n in range(8)]
    try:
        for path in closing + sequenced:
            await engine.create(path, content_type="text/plain")
        producer = ProducerTuple("closer", 3, 0)
        await asyncio.gather(
            *(engine.append(p, b"last", content_type="text/plain", producer=producer, close=True)
              for p in closing),
            *(engine.append(p, b"x", content_type="text/plain", stream_seq="05")
              for p in sequenced),
        )  # fmt: skip
        if streams_url != "memory://":  # read back what was committed, in a new engine
            await engine.close()
            engine = await started(streams_url)
        for path in closing:
            retry = await engine.append(
                path, b"last", content_type="text/plain", producer=producer, close=True
            )
            assert retry.duplicate and retry.info.closed
            with pytest.raises(StreamClosedError):
                await engine.append(path, b"more", content_type="text/plain")
        for path in sequenced:
            with pytest.raises(StreamConflictError):
                await engine.append(path, b"y", content_type="text/plain", stream_seq="05")
            await engine.append(path, b"y", content_type="text/plain", stream_seq="06")
            assert [m.data for m in (await engine.read(path)).messages] == [b"x", b"y"]
    finally:
        await engine.close()


async def test_a_reader_at_the_tail_of_this_processs_appends_is_answered_from_memory(
    streams_url,
):
    """Caught up with what this process appended: nothing new, without a database read
    (200 chat followers re-read thousands of times when that went to the database); a
    close is seen the same way, and a change from elsewhere sends the reader back."""
    engine = await started(streams_url)
    try:
        await engine.create("tail", content_type=JSON)
        appended = await engine.append("tail", b'{"n":1}', content_type=JSON)
        position = appended.info.tail
        database_read = engine.storage.read

        async def no_database(operation):
            raise AssertionError("read the database")

        engine.storage.read = no_database
        caught_up = await engine.read_at("tail", position, use_cache=True)
        assert caught_up.messages == [] and caught_up.up_to_date and not caught_up.closed
        assert parse_offset(caught_up.next_offset) == position
        closing = await engine.close_stream("tail")
        closed = await engine.read_at("tail", closing.info.tail, use_cache=True)
        assert closed.messages == [] and closed.closed
        engine.storage.read = database_read
        engine.live.changed("tail")  # another process wrote: memory no longer answers
        again = await engine.read_at("tail", closing.info.tail, use_cache=True)
        assert again.closed and again.info.content_type == JSON  # from the database
    finally:
        await engine.close()

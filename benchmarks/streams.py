"""Durable Streams performance: our server on SQLite and PostgreSQL vs the reference.

Measures, in one run and one server at a time (the client shares the machine):

* append throughput: small JSON messages (~60 bytes), one writer (sequential requests on
  one keep-alive connection) and 10 writers (concurrent, on the same stream);
* catch-up read MB/s: read a 8 MiB stream (4096 appends of 2 KiB) from the beginning,
  following ``Stream-Next-Offset`` until up to date (best of 3);
* append-to-live-reader latency with 100 SSE readers on one stream: p50/p99 over every
  (append, reader) pair, appends paced every 5 ms.

Servers: ``solidtype-jupyter streams serve`` on SQLite and on PostgreSQL (a fresh database,
dropped afterwards), and the reference Node server ``@durable-streams/server`` (pinned in
``benchmarks/reference-server``) in memory and file-backed. The client is a minimal
asyncio HTTP/1.1 client (no third-party code in the timed path); it timestamps SSE bytes
as they arrive and parses them after the run, so 100 readers cost it little.

    .venv/bin/python benchmarks/streams.py [--postgres-url URL] [--skip-reference]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE_DIR = HERE / "reference-server"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


# --------------------------------------------------------------------------- HTTP client


class Connection:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for these servers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        response_headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            response_headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304):
            return status, response_headers, b""
        if "content-length" in response_headers:
            length = int(response_headers["content-length"])
            return status, response_headers, await self.reader.readexactly(length)
        if response_headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            return status, response_headers, b"".join(parts)
        return status, response_headers, b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


class SSERecorder(asyncio.Protocol):
    """Keeps (arrival time, bytes) of an SSE response; parsed after the run."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.chunks: list[tuple[int, bytes]] = []
        self.connected = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(f"GET {self.path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())

    def data_received(self, data: bytes) -> None:
        self.chunks.append((time.perf_counter_ns(), data))
        if not self.connected.done():
            self.connected.set_result(None)

    def arrivals(self, pattern: re.Pattern[bytes]) -> dict[int, int]:
        """{message number: arrival ns} for every payload matching ``pattern``."""
        raw = b"".join(data for _, data in self.chunks)
        ends = []
        total = 0
        for _, data in self.chunks:
            total += len(data)
            ends.append(total)
        out = {}
        for match in pattern.finditer(raw):
            chunk = bisect.bisect_left(ends, match.end())
            out[int(match.group(2))] = self.chunks[chunk][0] - int(match.group(1))
        return out


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server not ready:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running(command: list[str], port: int, log: Path, cwd: Path | None = None) -> Iterator[None]:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        wait_ready(process, port, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    sys.path.insert(0, str(HERE.parent))
    from solidtype_jupyter.store.database import normalize_database_url, upgrade_schema

    admin_url = normalize_database_url(server_url)
    name = f"solidtype_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_schema(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def server(kind: str, workdir: Path, postgres_url: str) -> Iterator[tuple[int, str]]:
    """(port, stream path prefix) of a running server of ``kind``."""
    port = free_port()
    log = workdir / f"{kind}.log"
    if kind.startswith("reference"):
        command = ["node", "serve.mjs", str(port)]
        if kind == "reference-file":
            data_dir = workdir / "reference-data"
            data_dir.mkdir()
            command.append(str(data_dir))
        with running(command, port, log, cwd=REFERENCE_DIR):
            yield port, "/v1/stream"
        return
    serve = [str(BIN / "solidtype-jupyter"), "streams", "serve", "--port", str(port)]
    if kind == "ours-sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        with running([*serve, "--database-url", url], port, log):
            yield port, "/v1/stream"
        return
    with (
        postgres_database(postgres_url) as url,
        running([*serve, "--database-url", url], port, log),
    ):
        yield port, "/v1/stream"


# --------------------------------------------------------------------------- measurements

MESSAGE = {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m1", "delta": "hello, world"}
JSON_HEADERS = {"Content-Type": "application/json"}


async def create(port: int, path: str, content_type: str) -> None:
    connection = await Connection.open(port)
    status, _, body = await connection.request("PUT", path, headers={"Content-Type": content_type})
    await connection.close()
    assert status in (200, 201), (status, body)


async def append_many(port: int, path: str, count: int, writer: int) -> None:
    connection = await Connection.open(port)
    try:
        for n in range(count):
            body = json.dumps({**MESSAGE, "writer": writer, "n": n}).encode()
            status, _, _ = await connection.request("POST", path, body, JSON_HEADERS)
            assert status in (200, 204), status
    finally:
        await connection.close()


async def append_throughput(port: int, prefix: str, writers: int, per_writer: int) -> float:
    path = f"{prefix}/bench-append-{writers}-{uuid.uuid4().hex[:6]}"
    await create(port, path, "application/json")
    await append_many(port, path, 50, -1)  # warm-up
    start = time.perf_counter()
    await asyncio.gather(*(append_many(port, path, per_writer, w) for w in range(writers)))
    elapsed = time.perf_counter() - start
    return writers * per_writer / elapsed


async def catch_up_read(port: int, prefix: str, appends: int, size: int, rounds: int) -> float:
    path = f"{prefix}/bench-read-{uuid.uuid4().hex[:6]}"
    await create(port, path, "application/octet-stream")
    connection = await Connection.open(port)
    payload = bytes(range(256)) * (size // 256)
    for _ in range(appends):
        status, _, _ = await connection.request(
            "POST", path, payload, {"Content-Type": "application/octet-stream"}
        )
        assert status in (200, 204)
    best = 0.0
    for _ in range(rounds):
        offset = "-1"
        total = 0
        start = time.perf_counter()
        while True:
            status, headers, body = await connection.request("GET", f"{path}?offset={offset}")
            assert status == 200, status
            total += len(body)
            offset = headers["stream-next-offset"]
            if headers.get("stream-up-to-date") == "true":
                break
        elapsed = time.perf_counter() - start
        assert total == appends * len(payload), total
        best = max(best, total / elapsed / 1e6)
    await connection.close()
    return best


PAYLOAD_RE = re.compile(rb'\{"t":(\d+),"n":(\d+)\}')


async def live_latency(
    port: int, prefix: str, readers: int, appends: int, interval: float
) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, share of (append, reader) pairs delivered)."""
    path = f"{prefix}/bench-live-{uuid.uuid4().hex[:6]}"
    await create(port, path, "application/json")
    loop = asyncio.get_running_loop()
    recorders = []
    for _ in range(readers):
        _, recorder = await loop.create_connection(
            lambda: SSERecorder(f"{path}?offset=now&live=sse"), HOST, port
        )
        recorders.append(recorder)
    await asyncio.wait_for(asyncio.gather(*(r.connected for r in recorders)), 30)
    await asyncio.sleep(0.2)
    connection = await Connection.open(port)
    warmup = 20
    next_at = time.perf_counter()
    for n in range(appends + warmup):
        body = json.dumps({"t": time.perf_counter_ns(), "n": n}, separators=(",", ":")).encode()
        status, _, _ = await connection.request("POST", path, body, JSON_HEADERS)
        assert status in (200, 204)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.sleep(0.5)
    await connection.close()
    latencies = []
    for recorder in recorders:
        assert recorder.transport is not None
        recorder.transport.close()
        arrivals = recorder.arrivals(PAYLOAD_RE)
        latencies += [ns / 1e6 for n, ns in arrivals.items() if n >= warmup]
    latencies.sort()
    delivered = len(latencies) / (readers * appends)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return p50, p99, delivered


@dataclass
class Figures:
    kind: str
    append_1: float = 0.0
    append_10: float = 0.0
    read_mb_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    delivered: float = 0.0
    notes: list[str] = field(default_factory=list)


async def measure(kind: str, port: int, prefix: str, args: argparse.Namespace) -> Figures:
    figures = Figures(kind)
    figures.append_1 = await append_throughput(port, prefix, 1, args.appends)
    figures.append_10 = await append_throughput(port, prefix, 10, args.appends // 10)
    figures.read_mb_s = await catch_up_read(port, prefix, args.read_appends, 2048, 3)
    figures.p50_ms, figures.p99_ms, figures.delivered = await live_latency(
        port, prefix, args.readers, args.live_appends, 0.005
    )
    return figures


def storage_access(workdir: Path, count: int = 3000) -> str:
    """The append transaction (select row, insert message, update row, commit) through the
    DBAPI vs SQLAlchemy Core on SQLite: the measurement behind ``streams/storage/sql.py``."""
    import sqlite3

    import sqlalchemy as sa

    sys.path.insert(0, str(HERE.parent))
    from solidtype_jupyter.store.database import create_sync_engine, upgrade_schema

    path = workdir / "access.db"
    url = f"sqlite:///{path}"
    upgrade_schema(url)
    data = b'{"type":"TEXT_MESSAGE_CONTENT","delta":"hello"},'
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute(
        "INSERT INTO durable_streams (path, content_type, tail, created_at, last_access) "
        "VALUES ('a', 'application/json', 0, 0, 0)"
    )
    stream_id = raw.execute("SELECT id FROM durable_streams WHERE path = 'a'").fetchone()[0]
    start = time.perf_counter()
    for _ in range(count):
        raw.execute("BEGIN IMMEDIATE")
        cursor = raw.cursor()
        cursor.execute("SELECT id, tail FROM durable_streams WHERE path = ?", ("a",))
        _, tail = cursor.fetchone()
        cursor.execute(
            "INSERT INTO durable_stream_messages (stream_id, end_pos, data) VALUES (?, ?, ?)",
            (stream_id, tail + len(data), data),
        )
        cursor.execute(
            "UPDATE durable_streams SET tail = ? WHERE id = ?", (tail + len(data), stream_id)
        )
        raw.commit()
    dbapi_us = (time.perf_counter() - start) / count * 1e6
    raw.close()
    engine = create_sync_engine(url)
    select = sa.text("SELECT id, tail FROM durable_streams WHERE path = :p")
    insert = sa.text(
        "INSERT INTO durable_stream_messages (stream_id, end_pos, data) VALUES (:s, :e, :d)"
    )
    update = sa.text("UPDATE durable_streams SET tail = :t WHERE id = :i")
    with engine.connect() as connection:
        start = time.perf_counter()
        for _ in range(count):
            with connection.begin():
                _, tail = connection.execute(select, {"p": "a"}).one()
                end = tail + len(data)
                connection.execute(insert, {"s": stream_id, "e": end, "d": data})
                connection.execute(update, {"t": end, "i": stream_id})
        core_us = (time.perf_counter() - start) / count * 1e6
    engine.dispose()
    return (
        f"append transaction on SQLite: DBAPI {dbapi_us:.0f} us, SQLAlchemy Core "
        f"{core_us:.0f} us ({core_us / dbapi_us:.1f}x)"
    )


async def group_commit(url: str, count: int = 2000) -> str:
    """Engine appends (no HTTP) one at a time vs 10 at once: what group commit buys."""
    sys.path.insert(0, str(HERE.parent))
    from solidtype_jupyter.streams import open_engine

    engine = open_engine(url)
    await engine.start()
    rates = []
    body = json.dumps(MESSAGE).encode()
    try:
        for writers in (1, 10):
            path = f"group-{writers}-{uuid.uuid4().hex[:6]}"
            await engine.create(path, content_type="application/json")

            async def write(n: int, path: str = path) -> None:
                for _ in range(n):
                    await engine.append(path, body, content_type="application/json")

            start = time.perf_counter()
            await asyncio.gather(*(write(count // writers) for _ in range(writers)))
            rates.append(count / (time.perf_counter() - start))
    finally:
        await engine.close()
    return (
        f"engine appends/s without HTTP: 1 writer {rates[0]:,.0f}, 10 writers {rates[1]:,.0f} "
        f"({rates[1] / rates[0]:.1f}x from group commit)"
    )


def report(results: list[Figures], anchor: str) -> str:
    base = next((r for r in results if r.kind == anchor), None)
    rows = [
        "| server | append msg/s, 1 writer | append msg/s, 10 writers | catch-up MB/s "
        "| live p50 ms | live p99 ms | delivered |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(value: float, reference: float | None, fmt: str) -> str:
        text = format(value, fmt)
        if reference:
            text += f" ({value / reference:.2f}x)"
        return text

    for r in results:
        ref = base if base is not None and r is not base else None
        rows.append(
            f"| {r.kind} | {cell(r.append_1, ref and ref.append_1, ',.0f')} "
            f"| {cell(r.append_10, ref and ref.append_10, ',.0f')} "
            f"| {cell(r.read_mb_s, ref and ref.read_mb_s, '.1f')} "
            f"| {cell(r.p50_ms, ref and ref.p50_ms, '.2f')} "
            f"| {cell(r.p99_ms, ref and ref.p99_ms, '.2f')} | {r.delivered:.1%} |"
        )
    return "\n".join(rows) + f"\n\nRatios in parentheses: relative to {anchor} in this run."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SOLIDTYPE_TEST_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL server for the 'ours-postgresql' run (a fresh database is made)",
    )
    parser.add_argument("--appends", type=int, default=3000, help="appends per throughput run")
    parser.add_argument("--read-appends", type=int, default=4096, help="2 KiB appends to read")
    parser.add_argument("--readers", type=int, default=100, help="SSE readers")
    parser.add_argument("--live-appends", type=int, default=300, help="appends in the live run")
    parser.add_argument(
        "--servers",
        default="reference-memory,reference-file,ours-sqlite,ours-postgresql",
        help="comma-separated subset of the servers to run",
    )
    parser.add_argument(
        "--skip-storage", action="store_true", help="skip the in-process hot-path figures"
    )
    args = parser.parse_args()
    kinds = args.servers.split(",")
    if (
        any(k.startswith("reference") for k in kinds)
        and not (REFERENCE_DIR / "node_modules").is_dir()
    ):
        print("run `npm ci` in benchmarks/reference-server first", file=sys.stderr)
        return 2
    if shutil.which("node") is None and any(k.startswith("reference") for k in kinds):
        print("node is needed for the reference server", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="ds-bench-") as tmp:
        for kind in kinds:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            print(f"measuring {kind} ...", flush=True)
            with server(kind, workdir, args.postgres_url) as (port, prefix):
                results.append(asyncio.run(measure(kind, port, prefix, args)))
            print(report(results[-1:], anchor=""), flush=True)
        print()
        print(report(results, anchor=kinds[0]))
        if not args.skip_storage:
            print()
            print("Hot-path choices (in-process, no HTTP):")
            print("-", storage_access(Path(tmp)))
            sys.path.insert(0, str(HERE.parent))
            from solidtype_jupyter.store.database import upgrade_schema

            sqlite_url = f"sqlite:///{Path(tmp) / 'group.db'}"
            upgrade_schema(sqlite_url)
            print("- SQLite", asyncio.run(group_commit(sqlite_url)))
            with postgres_database(args.postgres_url) as pg_url:
                print("- PostgreSQL", asyncio.run(group_commit(pg_url)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Chat throughput and delivery delay, through ``ChatService`` (the code the route runs).

1. One answer of ``--deltas`` (default 100,000) text deltas from the scripted model as fast as
   it can, read by one client that follows the session's stream and renders every event as
   the SSE frame the route writes. Events/s with persistence on (SQLite file, and PostgreSQL
   with ``--postgres-url``) and off (the in-memory stream store), and the time per event at
   the start vs the end of the answer (first and last 10% of the events): it must stay flat,
   since nothing is rewritten per chunk (Jupyter AI rewrites the whole message every chunk).
2. ``--sessions`` (default 200) concurrent sessions, each answering ``--paced-deltas``
   (default 500) deltas at ``--rate`` (default 50) deltas/s, each followed by one client:
   p50/p99/max delivery delay, client receipt minus the time the model emitted the delta
   (the scripted model keeps a schedule, so a busy server does not slow it down), over the
   deltas due while every session was streaming; and over the same window the event loop
   thread's CPU time per delta and its busy share (steadier than the percentiles).

In-process: the model, the loop, the stream store and the readers share one event loop, so
the figures are the server's work without sockets. ``--http`` also measures case 1 end to end
through a real ``jupyter server`` (SQLite) and its SSE route, read by an HTTP client.

    .venv/bin/python benchmarks/chat.py [--deltas 100000] [--sessions 200] [--rate 50]
        [--paced-deltas 500] [--repeat 1] [--no-freeze] [--writer auto|thread|process]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--http]
        [--stores memory,sqlite,postgresql]

``--repeat N`` runs each case N times per store and shows the median run (both cases vary
from run to run on a shared 2-core machine); ``--stores`` picks the stores to run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from solidtype_jupyter.agent import ChatService, InProcessAgent
from solidtype_jupyter.heap import freeze_startup_heap
from solidtype_jupyter.llm import ScriptedAdapter
from solidtype_jupyter.llm.adapters.scripted import parse_script
from solidtype_jupyter.protocol import agui
from solidtype_jupyter.store import ChatSessionRepository, ThreadedDatabase, upgrade_schema
from solidtype_jupyter.streams import open_engine


class Backend:
    """A stream engine and a session repository on one database (or memory + SQLite rows)."""

    def __init__(self, label: str, stream_url: str, rows_url: str, writer: str) -> None:
        self.label, self.stream_url, self.rows_url = label, stream_url, rows_url
        self.writer = writer

    async def __aenter__(self) -> Backend:
        await asyncio.to_thread(upgrade_schema, self.rows_url)
        self.engine = open_engine(self.stream_url, writer=self.writer)
        await self.engine.start()
        self.database = ThreadedDatabase(self.rows_url)
        self.sessions = ChatSessionRepository(self.database)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.close()
        await asyncio.to_thread(self.database.close)

    def service(self, script: str) -> ChatService:
        turns = parse_script(script)

        async def engine() -> Any:
            return self.engine

        agent = InProcessAgent(lambda: ScriptedAdapter(turns))
        return ChatService(engine, self.sessions, agent)


def body(session_id: str) -> agui.RunAgentInput:
    return agui.RunAgentInput(
        thread_id=session_id,
        run_id=f"run-{uuid.uuid4().hex}",
        messages=[agui.Message(id=f"u-{uuid.uuid4().hex}", role="user", content="go")],
    )


async def one_answer(backend: Backend, deltas: int) -> dict[str, float]:
    service = backend.service(json.dumps({"text": ["x"], "repeat": deltas}))
    session = await backend.sessions.create("bench", "dashboard")
    t0 = time.perf_counter()
    started = await service.start("bench", session, body(str(session.id)))
    arrivals: list[float] = []
    written = 0
    async for batch in service.follow(session, started.position):
        frames = "".join(e.sse() for e in batch)  # what the route writes
        written += len(frames)
        now = time.perf_counter()
        arrivals.extend([now] * len(batch))
    elapsed = time.perf_counter() - t0
    await service.close()
    n = len(arrivals)
    tenth = max(1, n // 10)
    start_per_event = (arrivals[tenth] - arrivals[0]) / tenth
    end_per_event = (arrivals[-1] - arrivals[-1 - tenth]) / tenth
    return {
        "events": n,
        "seconds": elapsed,
        "events_per_s": n / elapsed,
        "us_per_event_first_10pct": start_per_event * 1e6,
        "us_per_event_last_10pct": end_per_event * 1e6,
        "sse_mb": written / 1e6,
    }


async def paced(backend: Backend, sessions: int, rate: float, deltas: int) -> dict[str, float]:
    delay_ms = 1000.0 / rate
    service = backend.service(
        json.dumps({"text": ["word "], "repeat": deltas, "delay_ms": delay_ms})
    )
    rows = [await backend.sessions.create("bench", "dashboard") for _ in range(sessions)]
    # (due ms, delay ms) per delta, and each session's first and last due time
    samples: list[tuple[float, float]] = []
    spans: list[tuple[float, float]] = []

    async def one(session: Any) -> None:
        started = await service.start("bench", session, body(str(session.id)))
        first_ms = None
        index = 0
        async for batch in service.follow(session, started.position):
            now_ms = time.time() * 1000
            for logged in batch:
                if logged.type == "TEXT_MESSAGE_CONTENT":
                    created_ms = logged.data["timestamp"]
                    if first_ms is None:
                        first_ms = created_ms
                    # Due when the model emitted it (the scripted model keeps a schedule):
                    # counts the time a delta waited before the server turned it into an
                    # event, which the event's own timestamp does not.
                    due_ms = first_ms + index * delay_ms
                    samples.append((due_ms, now_ms - due_ms))
                    index += 1
        if first_ms is not None:
            spans.append((first_ms, first_ms + (index - 1) * delay_ms))

    # The event loop thread's CPU time per delta while every session streams: steadier
    # from run to run than the delay percentiles, so it is what A/B comparisons quote.
    ticks: list[tuple[float, float, int]] = []  # (ms, thread CPU s, deltas received)

    async def sample() -> None:
        while True:
            ticks.append((time.time() * 1000, time.thread_time(), len(samples)))
            await asyncio.sleep(0.25)

    sampler = asyncio.ensure_future(sample())
    t0 = time.perf_counter()
    await asyncio.gather(*(one(s) for s in rows))
    elapsed = time.perf_counter() - t0
    sampler.cancel()
    await service.close()
    # Sessions start one after another (each start reads its session's stream), so the
    # figures count only the deltas due while every session was streaming.
    window = (max(first for first, _ in spans), min(last for _, last in spans))
    delays = sorted(delay for due, delay in samples if window[0] <= due <= window[1])
    spread = (window[0] - min(first for first, _ in spans)) / 1000
    if not delays:
        raise SystemExit(
            f"no moment with all {sessions} sessions streaming (their first deltas spread "
            f"over {spread:.1f} s, each answer lasts {deltas / rate:.1f} s): raise --paced-deltas"
        )
    inside = [tick for tick in ticks if window[0] <= tick[0] <= window[1]]
    loop_cpu_us = loop_busy = float("nan")
    if len(inside) >= 2 and inside[-1][2] > inside[0][2]:
        (ms0, cpu0, n0), (ms1, cpu1, n1) = inside[0], inside[-1]
        loop_cpu_us = (cpu1 - cpu0) / (n1 - n0) * 1e6
        loop_busy = (cpu1 - cpu0) / ((ms1 - ms0) / 1000)
    return {
        "sessions": sessions,
        "deltas_per_s_each": rate,
        "first_deltas_spread_s": spread,
        "deltas_received": len(samples),
        "seconds": elapsed,
        "all_streaming_s": (window[1] - window[0]) / 1000,
        "deltas_in_window": len(delays),
        "p50_ms": statistics.median(delays),
        "p99_ms": delays[int(len(delays) * 0.99) - 1],
        "max_ms": delays[-1],
        "loop_thread_cpu_us_per_delta": loop_cpu_us,
        "loop_thread_busy": loop_busy,
    }


def http_answer(tmp: Path, deltas: int) -> dict[str, float]:
    """Case 1 through a real jupyter server's SSE route (SQLite)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from chat.test_restart import Server, read_frames, turn_body  # type: ignore[import-not-found]

    script = tmp / "http.jsonl"
    script.write_text(json.dumps({"text": ["x"], "repeat": deltas}) + "\n")
    server = Server(tmp, f"sqlite:///{tmp / 'http.db'}", script)
    server.start()
    try:
        _, session = server.call("POST", "solidtype/api/ai/sessions", {"context": "dashboard"})
        t0 = time.perf_counter()
        with server.open(
            "POST", "solidtype/api/ai/chat", turn_body(session["id"], "run-http", "go")
        ) as response:
            frames = read_frames(response)
        elapsed = time.perf_counter() - t0
    finally:
        server.stop()
    return {"events": len(frames), "seconds": elapsed, "events_per_s": len(frames) / elapsed}


def bench_database(server_url: str, *, drop: bool = False) -> str:
    """A fresh database ``solidtype_bench_chat`` on the server (dropped again with ``drop``)."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text('DROP DATABASE IF EXISTS "solidtype_bench_chat" WITH (FORCE)'))
        if not drop:
            connection.execute(sa.text('CREATE DATABASE "solidtype_bench_chat"'))
    admin.dispose()
    url = sa.make_url(server_url).set(database="solidtype_bench_chat")
    return url.render_as_string(hide_password=False)


def _median_p99(runs: list[dict[str, float]]) -> float:
    return statistics.median_low([run["p99_ms"] for run in runs])


def show(title: str, figures: dict[str, float]) -> None:
    print(f"\n{title}")
    for key, value in figures.items():
        text = f"{value:,.0f}" if isinstance(value, int) or value >= 1000 else f"{value:.3g}"
        print(f"  {key:28s} {text}")


async def main(args: argparse.Namespace) -> None:
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, {platform.platform()}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    if not args.no_freeze:  # what the server extension does once it has started
        print(f"start-up heap frozen out of gc: {freeze_startup_heap():,} objects")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{Path(tmp) / 'bench.db'}"
        backends = [
            Backend("memory (persistence off)", "memory://", sqlite, args.writer),
            Backend("SQLite (persistence on)", sqlite, sqlite, args.writer),
        ]
        if args.postgres_url:
            postgres = bench_database(args.postgres_url)
            backends.append(Backend("PostgreSQL (persistence on)", postgres, postgres, args.writer))
        backends = [b for b in backends if b.label.split()[0].lower() in args.stores]
        results: dict[str, dict[str, float]] = {}
        for backend in backends:
            answers = []
            for _ in range(args.repeat):
                async with backend:
                    answers.append(await one_answer(backend, args.deltas))
            # The median run: one answer's events/s moves by +-15% between runs here.
            answers.sort(key=lambda run: run["events_per_s"])
            results[backend.label] = answers[len(answers) // 2]
            show(f"one answer of {args.deltas:,} deltas, {backend.label}", results[backend.label])
            if args.repeat > 1:
                rates = ", ".join(f"{run['events_per_s']:,.0f}" for run in answers)
                print(f"  events/s of each of {args.repeat} runs: {rates}; shown: the median")
        off = results.get("memory (persistence off)", {}).get("events_per_s", 0)
        for label, figures in results.items():
            if "on" in label and off:
                cost = 1 - figures["events_per_s"] / off
                print(f"\npersistence cost, {label}: {cost:.1%} of throughput (target < 20%)")
        for backend in backends:
            runs = []
            for _ in range(args.repeat):
                async with backend:
                    runs.append(await paced(backend, args.sessions, args.rate, args.paced_deltas))
            figures = min(runs, key=lambda run: abs(run["p99_ms"] - _median_p99(runs)))
            show(f"{args.sessions} sessions x {args.rate:g} deltas/s, {backend.label}", figures)
            if args.repeat > 1:
                p99s = ", ".join(f"{run['p99_ms']:.0f}" for run in runs)
                print(f"  p99 of each of {args.repeat} runs (ms): {p99s}; shown: the median run")
            print(f"  p99 target < 50 ms: {'met' if figures['p99_ms'] < 50 else 'NOT met'}")
        if args.postgres_url:
            bench_database(args.postgres_url, drop=True)
        if args.http:
            show("one answer through a real jupyter server (SQLite, HTTP SSE)",
                 http_answer(Path(tmp), args.deltas))  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--paced-deltas", type=int, default=500)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per store of each case (the median is shown)"
    )
    parser.add_argument("--postgres-url")
    parser.add_argument(
        "--writer",
        choices=("auto", "thread", "process"),
        default="auto",
        help="where stream writes run (default auto, as in the server: see open_storage)",
    )
    parser.add_argument(
        "--stores",
        type=lambda text: set(text.split(",")),
        default={"memory", "sqlite", "postgresql"},
        help="comma-separated subset of memory,sqlite,postgresql (postgresql needs "
        "--postgres-url); default: all",
    )
    parser.add_argument("--http", action="store_true")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave the start-up heap in gc (see heap.py)"
    )
    asyncio.run(main(parser.parse_args()))

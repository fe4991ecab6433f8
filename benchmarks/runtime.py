"""Agent runtimes: spawn-to-ready time, command round trip, memory per agent kernel.

Measures, through ``AgentRuntimes`` / ``AgentClient`` (the code path the server uses), on a
jupyter_client ``AsyncMultiKernelManager`` (the base class of the server's kernel manager):

* spawn to ``ready``: thread runtime; kernel runtime cold (start a kernel, import the agent,
  open the comm, init); kernel runtime from the warm pool (a kernel started ahead with
  CadQuery imported: open the comm, init); ``--spawns`` each, median and max;
* command round trip: ``execute_tool("list_features")`` on an empty editor document, p50/p95
  over ``--round-trips`` calls, per runtime: thread, kernel, and remote (a WebSocket to a
  second jupyter_server with the extension, started in a subprocess on the same database,
  whose agents run on its thread runtime);
* memory: RSS of one idle agent kernel (with CadQuery imported) after a spawn.

``--memory`` measures only the memory of one agent kernel, at each step of its life: a bare
kernel, after importing CadQuery (a kernel waiting in the warm pool), once its agent is
ready, and after one plate has been built by tools (sketch, rectangle, extrude, geometry,
a rendered view); RSS, PSS (shared pages split among the processes that map them) and USS
(pages only that process holds): what ``max_agents`` budgets.

    .venv/bin/python benchmarks/runtime.py [--spawns 3] [--round-trips 200]
    .venv/bin/python benchmarks/runtime.py --memory
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from solidtype_jupyter.agent.client import AgentClient, AgentRuntimes
from solidtype_jupyter.agent.pool import KernelPool
from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.store import ChatSessionRepository, ThreadedDatabase, upgrade_schema

TESTS = Path(__file__).resolve().parent.parent / "tests"


def _fmt(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} s, max {max(values):.3f} s"


async def _spawn(runtimes: AgentRuntimes, session: str) -> tuple[float, AgentClient]:
    client = AgentClient(runtimes, session, user_id="bench", document=CadDocument("bench"))
    started = time.perf_counter()
    await client.spawn()
    return time.perf_counter() - started, client


async def _round_trips(client: AgentClient, count: int) -> str:
    await client.sync_document(CadDocument("bench"))
    times = []
    for _ in range(count):
        started = time.perf_counter()
        result = await client.execute_tool("list_features", {})
        times.append(time.perf_counter() - started)
        assert result.error is None, result
    times.sort()
    p50 = times[len(times) // 2] * 1000
    p95 = times[int(len(times) * 0.95)] * 1000
    return f"p50 {p50:.2f} ms, p95 {p95:.2f} ms"


async def _remote(spawns: int, round_trips: int) -> tuple[list[float], str]:
    """Spawn times and round trips of the remote runtime against a second server."""
    sys.path.insert(0, str(TESTS))
    from conformance.run import jupyter_server  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade_schema(url)
        database = ThreadedDatabase(url)
        sessions = ChatSessionRepository(database)
        # The agent server's token-less logins act as "bench", the sessions' owner.
        extra = ["--SolidTypeApp.anonymous_owner=bench", "--SolidTypeApp.default_runtime=thread"]
        with jupyter_server(url, Path(tmp), extra) as base:
            agent_server = base.removesuffix("solidtype")
            remote = AgentRuntimes(default_runtime="remote", remote_url=agent_server)
            try:
                times, rtt = [], ""
                for n in range(spawns):
                    session = await sessions.create("bench", "editor")
                    elapsed, client = await _spawn(remote, str(session.id))
                    times.append(elapsed)
                    if n == 0:
                        rtt = await _round_trips(client, round_trips)
                    await client.terminate()
            finally:
                await remote.close()
        database.close()
    return times, rtt


async def main(spawns: int, round_trips: int) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    km: Any = AsyncMultiKernelManager()
    threads = AgentRuntimes(default_runtime="thread")
    cold = AgentRuntimes(kernel_manager=km, init_timeout=120)
    pool = KernelPool(km, 1)
    warm = AgentRuntimes(kernel_manager=km, pool=pool, init_timeout=120)
    try:
        times: dict[str, list[float]] = {"thread": [], "kernel cold": [], "kernel warm": []}
        rtt: dict[str, str] = {}
        rss_mb = 0.0
        for n in range(spawns):
            elapsed, client = await _spawn(threads, f"thread-{n}")
            times["thread"].append(elapsed)
            if n == 0:
                rtt["thread"] = await _round_trips(client, round_trips)
            await client.terminate()

            elapsed, client = await _spawn(cold, f"cold-{n}")
            times["kernel cold"].append(elapsed)
            await client.terminate()

            await pool.wait_filled()
            elapsed, client = await _spawn(warm, f"warm-{n}")
            times["kernel warm"].append(elapsed)
            if n == 0:
                rtt["kernel"] = await _round_trips(client, round_trips)
                manager = km.get_kernel(client.runtime.kernel_id)
                rss_mb = psutil.Process(manager.provisioner.pid).memory_info().rss / 2**20
            await client.terminate()
        times["remote"], rtt["remote"] = await _remote(spawns, round_trips)
        for name, values in times.items():
            print(f"spawn to ready, {name}: {_fmt(values)} ({spawns} spawns)")
        for name, text in rtt.items():
            print(f"execute_tool round trip, {name}: {text} ({round_trips} calls)")
        print(f"RSS of one idle agent kernel (CadQuery imported): {rss_mb:.0f} MiB")
    finally:
        await threads.close()
        await cold.close()
        await warm.close()
        await km.shutdown_all(now=True)


def _memory_mib(pid: int) -> str:
    info = psutil.Process(pid).memory_full_info()
    mib = {name: getattr(info, name) / 2**20 for name in ("rss", "pss", "uss")}
    return ", ".join(f"{name.upper()} {value:.0f} MiB" for name, value in mib.items())


async def memory() -> None:
    """One agent kernel's memory at each step of its life (see the module's doc)."""
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    km: Any = AsyncMultiKernelManager()
    pool = KernelPool(km, 1)
    runtimes = AgentRuntimes(kernel_manager=km, pool=pool, init_timeout=120)
    try:
        bare = await km.start_kernel()
        kernel = km.get_kernel(bare).client()
        kernel.start_channels()
        await kernel.wait_for_ready(timeout=120)
        kernel.stop_channels()
        print(f"bare kernel: {_memory_mib(km.get_kernel(bare).provisioner.pid)}")
        await km.shutdown_kernel(bare, now=True)
        await pool.wait_filled()
        (kernel_id,) = km.list_kernel_ids()
        pid = km.get_kernel(kernel_id).provisioner.pid
        print(f"CadQuery imported (a warm pool kernel): {_memory_mib(pid)}")
        pool.size = 0  # the agent below takes this kernel; start no other meanwhile
        client = AgentClient(runtimes, "memory", user_id="bench", document=CadDocument("bench"))
        await client.spawn()
        print(f"agent ready: {_memory_mib(pid)}")
        await client.sync_document(CadDocument("bench"))
        for name, args in (
            ("create_sketch", {"plane": "XY"}),
            ("add_rectangle", {"sketch_id": "sketch1", "width": 60, "height": 40}),
            ("extrude", {"sketch_id": "sketch1", "distance": 8}),
            ("get_geometry", {}),
        ):
            result = await client.execute_tool(name, args, limit=120)
            assert result.error is None, (name, result.error)
        print(f"after a plate (sketch, extrude, geometry): {_memory_mib(pid)}")
        rendered = await client.execute_tool("render_view", {"view": "iso"}, limit=120)
        note = "" if rendered.error is None else f" (render failed: {rendered.error})"
        print(f"after one rendered view: {_memory_mib(pid)}{note}")
        await client.terminate()
    finally:
        await runtimes.close()
        await km.shutdown_all(now=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spawns", type=int, default=3)
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--memory", action="store_true", help="only one agent's memory, by step")
    args = parser.parse_args()
    asyncio.run(memory() if args.memory else main(args.spawns, args.round_trips))

"""MCP: the round trip of one tool call through the MCP server, against the same call
through the chat's tool executor.

The call is ``list_features`` on a built plate (sketch, rectangle, extrude): cheap CAD-wise,
so the figures are the transports' cost. p50/p95 over ``--calls`` calls, after a warm-up:

* executor: ``llm.tool_executor.ToolBox`` over ``editor_registry()`` in this process (the
  argument check and ``execute`` the chat's loop runs, in the agent that holds the document);
* stdio: the official client SDK against ``solidtype-jupyter mcp --document`` in a
  subprocess (the 2026-07-28 era the client negotiates by default, and the handshake era);
* HTTP: the client SDK against ``{base}solidtype/mcp`` of a jupyter_server in a subprocess
  (token authentication, the tool run in the session's agent kernel, the document saved by
  the server after changes; a read-only call saves nothing).

    .venv/bin/python benchmarks/mcp.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on the path, and this file is named like
# the SDK: without the folder, `import mcp` finds the SDK.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx2  # noqa: E402
from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from solidtype_jupyter.cad import CadDocument  # noqa: E402
from solidtype_jupyter.llm.tool_executor import ToolBox  # noqa: E402
from solidtype_jupyter.store import upgrade_schema  # noqa: E402
from solidtype_jupyter.tools import ToolContext, editor_registry  # noqa: E402

CLI = str(Path(sys.executable).with_name("solidtype-jupyter"))
PLATE = [
    ("create_sketch", {"plane": "XY"}),
    ("add_rectangle", {"sketch_id": "sketch1", "width": 60, "height": 40}),
    ("extrude", {"sketch_id": "sketch1", "distance": 8}),
]
CALL = ("list_features", {})


async def _timed(call: Callable[[], Awaitable[Any]], calls: int) -> str:
    for _ in range(10):
        await call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return f"p50 {statistics.median(times):.2f} ms, p95 {p95:.2f} ms"


async def _executor(calls: int) -> str:
    registry = editor_registry()
    document = CadDocument("plate")
    context = ToolContext(user_id="bench", document=document)
    for name, arguments in PLATE:
        assert (await registry.execute(name, arguments, context)).ok
    box = ToolBox(registry)

    async def call() -> None:
        checked = box.check(*CALL)
        assert checked.args is not None
        output = await box.execute(CALL[0], checked.args, context)
        assert not output.is_error

    return await _timed(call, calls)


async def _client_calls(client: Client, calls: int, opening: str | None = None) -> str:
    if opening is not None:
        opened = await client.call_tool("open_document", {"path": opening})
        assert not opened.is_error, opened.content
    for name, arguments in PLATE:
        result = await client.call_tool(name, arguments)
        assert not result.is_error, result.content

    async def call() -> None:
        result = await client.call_tool(*CALL)
        assert not result.is_error

    return await _timed(call, calls)


async def _stdio(calls: int, folder: Path, mode: str) -> str:
    params = StdioServerParameters(
        command=CLI, args=["mcp", "--document", f"stdio-{mode}.solid.json"], cwd=str(folder)
    )
    async with Client(params, mode=mode) as client:
        return await _client_calls(client, calls)


@contextlib.contextmanager
def _jupyter_server(folder: Path, token: str) -> Iterator[str]:
    """A jupyter_server with the extension in a subprocess, behind ``token``; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade_schema(url)
    command = [
        str(Path(sys.executable).with_name("jupyter")),
        "server",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={folder}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.jpserver_extensions={'solidtype_jupyter': True}",
        f"--SolidTypeApp.database_url={url}",
        "--SolidTypeApp.default_runtime=kernel",
        "--SolidTypeApp.agent_pool_size=0",
    ]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(folder / "config")}
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jupyter server not ready:\n{log_path.read_text()[-4000:]}")
            try:
                request = urllib.request.Request(
                    f"{base}solidtype/api/health", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(30)


async def _http(calls: int, folder: Path) -> str:
    token = "bench-token"
    with _jupyter_server(folder, token) as base:
        headers = {"Authorization": f"token {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300)) as http:
            transport = streamable_http_client(f"{base}solidtype/mcp", http_client=http)
            async with Client(transport) as client:
                return await _client_calls(client, calls, opening="http.solid.json")


async def main(calls: int) -> None:
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {calls} calls each")
    print(f"executor (in process):      {await _executor(calls)}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"MCP stdio (2026-07-28):     {await _stdio(calls, folder, 'auto')}")
        print(f"MCP stdio (handshake era):  {await _stdio(calls, folder, 'legacy')}")
        print(f"MCP HTTP (agent kernel):    {await _http(calls, folder)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    asyncio.run(main(parser.parse_args().calls))

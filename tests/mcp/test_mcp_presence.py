"""An MCP client is a collaborator while its session is open: under its own name
(``clientInfo``), on the document it opened, in jupyter-collaboration's rooms as JupyterLab
sees them; it leaves when the session ends. Its edits land in the server's copy of the
document (the one the chat's editor sessions use) and on disk by the time the call returns.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent.conftest import KERNEL_AGENTS  # noqa: E402

from solidtype_jupyter.presence import GLOBAL_ROOM  # noqa: E402
from solidtype_jupyter.presence.observer import AwarenessObserver  # noqa: E402

pytest.importorskip("jupyter_server_ydoc", reason="presence needs jupyter-collaboration")


@pytest.fixture
def jp_server_config(sqlite_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {
                "solidtype_jupyter": True,
                "jupyter_server_ydoc": True,
                "jupyter_server_fileid": True,
            },
        },
        "SolidTypeApp": {
            "database_url": sqlite_url,
            "model": "scripted:quickstart",
            **KERNEL_AGENTS,
        },
    }


async def wait_for(check: Any, limit: float) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > limit:
            raise AssertionError(f"not within {limit} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_the_client_is_a_collaborator_while_its_session_is_open(
    jp_fetch: Any, jp_serverapp: Any, jp_http_port: int, jp_root_dir: Path
) -> None:
    await jp_fetch("api", "status")
    base = f"http://127.0.0.1:{jp_http_port}{jp_serverapp.base_url}"
    token = jp_serverapp.identity_provider.token
    ext = jp_serverapp.extension_manager.extension_points["solidtype"].app
    browser = AwarenessObserver("browser")
    await browser.join(base, token, GLOBAL_ROOM)

    def named(name: str) -> list[dict[str, Any]]:
        return [s for s in browser.agents().values() if s["user"]["name"] == name]

    try:
        headers = {"Authorization": f"token {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300)) as http:
            transport = streamable_http_client(base + "solidtype/mcp", http_client=http)
            info = types.Implementation(name="claude-code", title="Claude Code", version="2")
            async with Client(transport, client_info=info) as client:
                opened = await client.call_tool("open_document", {"path": "live.solid.json"})
                assert not opened.is_error
                await wait_for(lambda: named("Claude Code"), limit=2.0)
                (state,) = named("Claude Code")
                assert state["isAgent"] is True
                assert state["documents"] == ["live.solid.json"]
                assert state["current"] == "document:live.solid.json"

                shared = ext.chat.shared_document((jp_root_dir / "live.solid.json").resolve())
                assert shared is not None
                before = (jp_root_dir / "live.solid.json").stat().st_mtime_ns
                made = await client.call_tool("create_sketch", {"plane": "XY"})
                assert not made.is_error
                # On disk (what the viewer polls) and in the chat's copy when the call returns.
                assert (jp_root_dir / "live.solid.json").stat().st_mtime_ns != before
                saved = json.loads((jp_root_dir / "live.solid.json").read_text())
                assert [f["id"] for f in saved["features"]] == ["sketch1"]
                assert [f.id for f in shared.document.features] == ["sketch1"]
            # the session ended (the client's DELETE): the collaborator leaves
            await wait_for(lambda: not named("Claude Code"), limit=3.0)
    finally:
        await browser.close()


@pytest.fixture
def quick_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    from solidtype_jupyter.server import mcp_http

    monkeypatch.setattr(mcp_http, "SWEEP_SECONDS", 0.2)


async def test_a_client_that_vanishes_leaves_after_the_idle_time(
    quick_sweep: None, jp_fetch: Any, jp_serverapp: Any, jp_http_port: int
) -> None:
    await jp_fetch("api", "status")
    base = f"http://127.0.0.1:{jp_http_port}{jp_serverapp.base_url}"
    token = jp_serverapp.identity_provider.token
    ext = jp_serverapp.extension_manager.extension_points["solidtype"].app
    ext.agent_idle_timeout = 3.0
    browser = AwarenessObserver("browser")
    await browser.join(base, token, GLOBAL_ROOM)

    def named(name: str) -> list[dict[str, Any]]:
        return [s for s in browser.agents().values() if s["user"]["name"] == name]

    try:
        headers = {"Authorization": f"token {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300)) as http:
            # terminate_on_close=False: the client goes away without ending its session
            transport = streamable_http_client(
                base + "solidtype/mcp", http_client=http, terminate_on_close=False
            )
            info = types.Implementation(name="cursor", version="1")
            async with Client(transport, client_info=info) as client:
                opened = await client.call_tool("open_document", {"path": "gone.solid.json"})
                assert not opened.is_error
                await wait_for(lambda: named("cursor"), limit=2.0)
        assert named("cursor")  # still there: nobody said the session ended
        await wait_for(lambda: not named("cursor"), limit=10.0)
        assert not ext.mcp.workspaces
    finally:
        await browser.close()

"""``{base}solidtype/mcp``: the official MCP client SDK over Streamable HTTP against a real
jupyter_server with the extension. Two users named by a header after the token check
(``HeaderIdentityProvider``); ``ContentsDenied`` takes ``contents`` away from a user.
Editor tools run in agent kernels, as the chat's do.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from jupyter_server.auth.authorizer import Authorizer
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent.conftest import KERNEL_AGENTS, server_config  # noqa: E402

from solidtype_jupyter.tools import editor_registry  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


class ContentsDenied(Authorizer):
    """carol may use the extension but not read or write files."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (user.username == "carol" and resource == "contents")


@pytest.fixture
def jp_server_config(sqlite_url: str) -> dict[str, Any]:
    config = server_config(
        sqlite_url, "scripted:quickstart", mcp_approvals="elicit", **KERNEL_AGENTS
    )
    config["ServerApp"]["authorizer_class"] = ContentsDenied
    return config


@pytest.fixture
def endpoint(jp_fetch: Any, jp_serverapp: Any, jp_http_port: int) -> str:
    """The route's URL (``jp_fetch`` makes the test server listen on its port)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_serverapp.base_url}solidtype/mcp"


@asynccontextmanager
async def connect(
    serverapp: Any, url: str, user: str, answer: Any = None, messages: Any = None
) -> AsyncIterator[Client]:
    token = serverapp.identity_provider.token
    headers = {"Authorization": f"token {token}", "X-Test-User": user}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300)) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(
            transport,
            elicitation_callback=answer,
            message_handler=messages,
            client_info=types.Implementation(name="Test Agent", version="1"),
        ) as client:
            yield client


def payload(result: types.CallToolResult) -> dict[str, Any]:
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    return json.loads(first.text)  # type: ignore[no-any-return]


def answering(approve: bool | None, asked: list[str]) -> Any:
    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        if approve is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"approve": approve})

    return answer


async def test_refused_without_the_token(jp_serverapp: Any, endpoint: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    async with httpx2.AsyncClient() as http:
        for headers in ({}, {"Authorization": "token wrong"}):
            answer = await http.post(endpoint, json=body, headers=headers)
            # jupyter_server answers unauthenticated API requests 403 (never a login redirect)
            assert answer.status_code in (401, 403), answer.text
        wrong_query = await http.post(endpoint + "?token=wrong", json=body)
        assert wrong_query.status_code in (401, 403)
        token = jp_serverapp.identity_provider.token
        ok = await http.post(
            f"{endpoint}?token={token}",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "curl", "version": "1"},
                },
            },
            headers={"Accept": "application/json, text/event-stream"},
        )
        assert ok.status_code == 200, ok.text
        assert ok.headers.get("mcp-session-id")


async def test_build_edit_picture_undo_and_approvals(
    jp_serverapp: Any, endpoint: str, jp_root_dir: Path
) -> None:
    (jp_root_dir / "parts").mkdir()
    asked: list[str] = []
    heard: list[Any] = []

    async def messages(message: Any) -> None:
        heard.append(message)

    async with connect(jp_serverapp, endpoint, "alice", answering(True, asked), messages) as client:
        first = {t.name: t for t in (await client.list_tools()).tools}
        assert "open_document" in first and "extrude" not in first
        assert first["list_documents"].annotations.read_only_hint is True  # type: ignore[union-attr]
        # it creates the file when missing: additive, so neither read-only nor destructive
        opening = first["open_document"].annotations
        assert (opening.read_only_hint, opening.destructive_hint) == (False, False)  # type: ignore[union-attr]
        opened = await client.call_tool("open_document", {"path": "parts/plate.solid.json"})
        assert not opened.is_error, payload(opened)
        assert any(isinstance(m, types.ToolListChangedNotification) for m in heard)
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert list(tools) == editor_registry().names()
        assert tools["delete_feature"].annotations.destructive_hint is True  # type: ignore[union-attr]

        for name, arguments in [
            ("create_sketch", {"plane": "XY"}),
            ("add_rectangle", {"sketch_id": "sketch1", "width": 60, "height": 40}),
            ("extrude", {"sketch_id": "sketch1", "distance": 8}),
        ]:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, payload(result)
        saved = json.loads((jp_root_dir / "parts" / "plate.solid.json").read_text())
        assert [f["id"] for f in saved["features"]] == ["sketch1", "extrude1"]

        geometry = await client.call_tool("get_geometry", {})
        assert geometry.structured_content is not None
        assert geometry.structured_content["geometry"]["volume"] == pytest.approx(19200)

        picture = await client.call_tool("render_view", {"width": 256, "height": 192})
        images = [c for c in picture.content if isinstance(c, types.ImageContent)]
        assert images and base64.b64decode(images[0].data).startswith(PNG)

        assert asked == []
        thicker = await client.call_tool(
            "modify_feature", {"feature_id": "extrude1", "changes": {"distance": 10}}
        )
        assert not thicker.is_error, payload(thicker)
        assert len(asked) == 1 and "modify_feature" in asked[0]
        saved = json.loads((jp_root_dir / "parts" / "plate.solid.json").read_text())
        assert saved["features"][1]["distance"] == 10

        undone = await client.call_tool("undo", {})
        assert not undone.is_error, payload(undone)
        saved = json.loads((jp_root_dir / "parts" / "plate.solid.json").read_text())
        assert saved["features"][1]["distance"] == 8

        tree = (await client.read_resource("solidtype://documents/parts/plate.solid.json")).contents
        assert isinstance(tree[0], types.TextResourceContents)
        assert json.loads(tree[0].text)["features"][1]["distance"] == 8

    before = (jp_root_dir / "parts" / "plate.solid.json").read_bytes()
    asked.clear()
    async with connect(jp_serverapp, endpoint, "alice", answering(None, asked)) as client:
        opened = await client.call_tool("open_document", {"path": "parts/plate.solid.json"})
        assert not opened.is_error, payload(opened)
        refused = await client.call_tool("delete_feature", {"feature_id": "extrude1"})
        assert refused.is_error and "declined" in payload(refused)["error"]["message"]
        assert len(asked) == 1
    assert (jp_root_dir / "parts" / "plate.solid.json").read_bytes() == before


async def test_sessions_and_documents_are_per_user(
    jp_serverapp: Any, endpoint: str, jp_root_dir: Path
) -> None:
    token = jp_serverapp.identity_provider.token
    async with connect(jp_serverapp, endpoint, "alice") as client:
        await client.list_tools()
        service = jp_serverapp.extension_manager.extension_points["solidtype"].app.mcp
        [alice_session] = list(service.owners)
        # bob with alice's session id: as an unknown session
        async with httpx2.AsyncClient() as http:
            stolen = await http.post(
                endpoint,
                json={"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}},
                headers={
                    "Authorization": f"token {token}",
                    "X-Test-User": "bob",
                    "mcp-session-id": alice_session,
                    "Accept": "application/json, text/event-stream",
                    "mcp-protocol-version": "2025-06-18",
                },
            )
        assert stolen.status_code == 404

    # carol may not read or write files: open_document is refused, nothing is created
    async with connect(jp_serverapp, endpoint, "carol") as client:
        refused = await client.call_tool("open_document", {"path": "carol.solid.json"})
        assert refused.is_error
        assert "contents" in payload(refused)["error"]["message"]
        outside = await client.call_tool("open_document", {"path": "../escape.solid.json"})
        assert outside.is_error
    assert not (jp_root_dir / "carol.solid.json").exists()

    async with connect(jp_serverapp, endpoint, "bob") as client:
        outside = await client.call_tool("open_document", {"path": "../escape.solid.json"})
        assert outside.is_error, payload(outside)
        folder = await client.call_tool("open_document", {"path": "nowhere/x.solid.json"})
        assert folder.is_error and "folder" in payload(folder)["error"]["message"]

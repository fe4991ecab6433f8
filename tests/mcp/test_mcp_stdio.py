"""``solidtype-jupyter mcp`` over stdio, driven by the official MCP client SDK in a real
subprocess: the tools as the editor registry defines them, a part built and edited, a
picture, undo, approvals asked through elicitation (both protocol eras), the dashboard mode
with ``open_document``, resources and prompts.

(No ``__init__.py`` in this folder: a package named ``mcp`` would hide the SDK.)
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters

from solidtype_jupyter.tools import approval_level, editor_registry
from solidtype_jupyter.tools.registry import ToolContext

CLI = str(Path(sys.executable).with_name("solidtype-jupyter"))
PNG = b"\x89PNG\r\n\x1a\n"


@asynccontextmanager
async def served(
    folder: Path,
    *args: str,
    mode: str = "auto",
    answer: Any = None,
    messages: Any = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=CLI, args=["mcp", *args], cwd=str(folder), env={**os.environ, **(env or {})}
    )
    async with Client(
        params,
        mode=mode,
        elicitation_callback=answer,
        message_handler=messages,
        client_info=types.Implementation(name="pytest-agent", version="1"),
    ) as client:
        yield client


def saved(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def payload(result: types.CallToolResult) -> dict[str, Any]:
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    return json.loads(first.text)  # type: ignore[no-any-return]


async def build_plate(client: Client) -> None:
    for name, arguments in [
        ("create_sketch", {"plane": "XY"}),
        ("add_rectangle", {"sketch_id": "sketch1", "width": 60, "height": 40}),
        ("extrude", {"sketch_id": "sketch1", "distance": 8}),
    ]:
        result = await client.call_tool(name, arguments)
        assert not result.is_error, payload(result)


async def volume(client: Client) -> float:
    result = await client.call_tool("get_geometry", {})
    assert not result.is_error and result.structured_content is not None
    return float(result.structured_content["geometry"]["volume"])


async def test_tools_are_the_editor_registry(tmp_path: Path) -> None:
    async with served(tmp_path, "--document", "plate.solid.json") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    definitions = {d.name: d for d in editor_registry().definitions()}
    assert list(tools) == list(definitions)
    for name, definition in definitions.items():
        tool = tools[name]
        assert tool.description == definition.description
        assert tool.input_schema == definition.parameters
        hints = tool.annotations
        assert hints is not None
        level = approval_level(name)
        assert hints.read_only_hint is (level == "auto")
        assert hints.destructive_hint is (level == "confirm")
    assert tools["get_geometry"].output_schema is not None
    assert tools["extrude"].annotations.destructive_hint is False  # type: ignore[union-attr]
    assert tools["set_parameter"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert (tmp_path / "plate.solid.json").exists()  # created when missing


async def test_build_edit_picture_undo_errors(tmp_path: Path) -> None:
    document = tmp_path / "plate.solid.json"
    async with served(tmp_path, "--document", "plate.solid.json") as client:
        await build_plate(client)
        assert [f["type"] for f in saved(document)["features"]] == [
            "sketch",
            "extrude",
        ]  # saved after every change
        assert await volume(client) == pytest.approx(60 * 40 * 8)

        picture = await client.call_tool("render_view", {"view": "iso", "width": 320})
        images = [c for c in picture.content if isinstance(c, types.ImageContent)]
        assert len(images) == 1 and images[0].mime_type == "image/png"
        assert base64.b64decode(images[0].data).startswith(PNG)
        cut = await client.call_tool("section", {"plane": "XY", "offset": 4, "width": 128})
        assert not cut.is_error, payload(cut)
        [drawing] = [c for c in cut.content if isinstance(c, types.ImageContent)]
        assert base64.b64decode(drawing.data).startswith(PNG)

        edited = await client.call_tool(
            "modify_feature", {"feature_id": "extrude1", "changes": {"distance": 12}}
        )
        assert not edited.is_error, payload(edited)
        assert await volume(client) == pytest.approx(60 * 40 * 12)
        assert saved(document)["features"][1]["distance"] == 12

        undone = await client.call_tool("undo", {})
        assert not undone.is_error
        assert await volume(client) == pytest.approx(60 * 40 * 8)
        assert saved(document)["features"][1]["distance"] == 8

        # The same error text the chat's model reads, as a tool error.
        wrong = await client.call_tool("extrude", {"sketch_id": "nope", "distance": 1})
        assert wrong.is_error
        error = payload(wrong)["error"]
        assert error["code"] == "cad_error" and "unknown sketch 'nope'" in error["message"]
        bad = await client.call_tool("extrude", {"distance": "far"})
        expected = await editor_registry().execute(
            "extrude", {"distance": "far"}, ToolContext(user_id="x")
        )
        assert bad.is_error and expected.error is not None
        assert bad.content[0].text == expected.model_text()  # type: ignore[union-attr]
        assert expected.error.message.startswith("invalid arguments: sketch_id")


def answering(approve: bool | None, asked: list[str]) -> Any:
    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        if approve is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"approve": approve})

    return answer


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 (input required), handshake
async def test_elicited_approvals(tmp_path: Path, mode: str) -> None:
    document = tmp_path / "plate.solid.json"
    asked: list[str] = []
    args = ("--document", "plate.solid.json", "--approvals", "elicit")
    async with served(tmp_path, *args, mode=mode, answer=answering(True, asked)) as client:
        await build_plate(client)
        assert asked == []  # notify tools are not asked about
        changed = await client.call_tool("set_parameter", {"name": "thickness", "value": 10})
        assert not changed.is_error, payload(changed)
        assert len(asked) == 1 and "set_parameter" in asked[0] and "thickness" in asked[0]
        assert saved(document)["parameters"]["thickness"]["value"] == 10

    before = document.read_bytes()
    asked.clear()
    async with served(tmp_path, *args, mode=mode, answer=answering(None, asked)) as client:
        refused = await client.call_tool(
            "modify_feature", {"feature_id": "extrude1", "changes": {"distance": 30}}
        )
        assert refused.is_error
        assert "declined by the user; nothing was changed" in payload(refused)["error"]["message"]
        assert len(asked) == 1
        assert await volume(client) == pytest.approx(60 * 40 * 8)
    assert document.read_bytes() == before


async def test_client_policy_asks_nothing(tmp_path: Path) -> None:
    asked: list[str] = []
    async with served(
        tmp_path, "--document", "p.solid.json", answer=answering(False, asked)
    ) as client:
        await build_plate(client)
        done = await client.call_tool("delete_feature", {"feature_id": "extrude1"})
        assert not done.is_error, payload(done)
    assert asked == []


async def test_dashboard_then_open_document(tmp_path: Path) -> None:
    heard: list[Any] = []

    async def messages(message: Any) -> None:
        heard.append(message)

    database = f"sqlite:///{tmp_path / 'catalog.db'}"
    (tmp_path / "parts").mkdir()
    async with served(
        tmp_path, "--database-url", database, mode="legacy", messages=messages
    ) as client:
        first = [tool.name for tool in (await client.list_tools()).tools]
        assert "open_document" in first and "list_documents" in first
        assert "extrude" not in first and "open_project" not in first
        early = await client.call_tool("extrude", {"sketch_id": "s", "distance": 1})
        assert early.is_error and payload(early)["error"]["code"] == "no_document"

        outside = await client.call_tool("open_document", {"path": "../x.solid.json"})
        assert outside.is_error and "outside" in payload(outside)["error"]["message"]
        opened = await client.call_tool("open_document", {"path": "parts/bracket.solid.json"})
        assert not opened.is_error, payload(opened)
        assert any(isinstance(m, types.ToolListChangedNotification) for m in heard), heard
        second = [tool.name for tool in (await client.list_tools()).tools]
        assert second == editor_registry().names()
        await build_plate(client)
        listed = await client.call_tool("list_features", {})
        assert listed.structured_content is not None
        assert listed.structured_content["name"] == "bracket"
    assert saved(tmp_path / "parts" / "bracket.solid.json")["name"] == "bracket"


async def test_resources_and_prompts(tmp_path: Path) -> None:
    async with served(tmp_path, "--document", "plate.solid.json") as client:
        await build_plate(client)
        resources = {str(r.uri): r for r in (await client.list_resources()).resources}
        base = "solidtype://documents/plate.solid.json"
        assert set(resources) == {base, base + "?as=script", base + "?as=png"}
        tree = (await client.read_resource(base)).contents[0]
        assert isinstance(tree, types.TextResourceContents)
        assert [f["id"] for f in json.loads(tree.text)["features"]] == ["sketch1", "extrude1"]
        script = (await client.read_resource(base + "?as=script")).contents[0]
        assert isinstance(script, types.TextResourceContents) and "import cadquery" in script.text
        png = (await client.read_resource(base + "?as=png")).contents[0]
        assert isinstance(png, types.BlobResourceContents)
        assert base64.b64decode(png.blob).startswith(PNG)

        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert "quickstart-1" in prompts
        got = await client.get_prompt("quickstart-1")
        content = got.messages[0].content
        assert isinstance(content, types.TextContent) and "60x40x8" in content.text


async def test_root_for_clients_that_start_servers_elsewhere(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ("--root", str(parts), "--document", "bracket.solid.json")
    async with served(elsewhere, *args) as client:
        await build_plate(client)
    assert saved(parts / "bracket.solid.json")["features"][1]["id"] == "extrude1"
    assert not list(elsewhere.iterdir())


async def test_approval_overrides_from_the_jupyter_config(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    settings = {"SolidTypeApp": {"approval_overrides": {"extrude": "confirm", "undo": "auto"}}}
    (config / "jupyter_server_config.json").write_text(json.dumps(settings))
    asked: list[str] = []
    args = ("--document", "p.solid.json", "--approvals", "elicit")
    env = {"JUPYTER_CONFIG_DIR": str(config)}
    async with served(tmp_path, *args, answer=answering(True, asked), env=env) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert tools["extrude"].annotations.destructive_hint is True  # type: ignore[union-attr]
        assert tools["undo"].annotations.read_only_hint is True  # type: ignore[union-attr]
        await build_plate(client)
    assert len(asked) == 1 and "extrude" in asked[0]

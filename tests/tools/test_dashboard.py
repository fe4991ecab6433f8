"""Dashboard tools on the real catalog (SQLite and PostgreSQL), scoped to the caller."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.store import CatalogRepository, ThreadedDatabase, upgrade_schema
from solidtype_jupyter.tools import ToolContext, dashboard_registry

REGISTRY = dashboard_registry()


@pytest.fixture
def catalog(database_url: str) -> Iterator[CatalogRepository]:
    upgrade_schema(database_url)
    database = ThreadedDatabase(database_url)
    yield CatalogRepository(database)
    database.close()


async def test_create_and_list_for_the_caller_only(
    catalog: CatalogRepository, tmp_path: Path
) -> None:
    alice = ToolContext(user_id="alice", catalog=catalog, root_dir=tmp_path)
    bob = ToolContext(user_id="bob", catalog=catalog)

    ws = await REGISTRY.execute("create_workspace", {"name": "Robots"}, alice)
    assert ws.ok, ws.error
    ws_id = ws.content["workspace"]["id"]
    assert (tmp_path / "Robots").is_dir()
    proj = await REGISTRY.execute("create_project", {"workspace_id": ws_id, "name": "Arm"}, alice)
    assert proj.ok, proj.error
    proj_id = proj.content["project"]["id"]
    doc = await REGISTRY.execute(
        "create_document", {"name": "gripper", "project_id": proj_id}, alice
    )
    assert doc.ok, doc.error
    assert doc.content["document"]["path"] == "Robots/Arm/gripper.solid.json"
    created = CadDocument.load(tmp_path / "Robots/Arm/gripper.solid.json")
    assert created.name == "gripper" and created.features == []

    listed = await REGISTRY.execute("list_workspaces", {}, alice)
    assert [w["name"] for w in listed.content["workspaces"]] == ["Robots"]
    assert "owner_id" not in listed.content["workspaces"][0]
    projects = await REGISTRY.execute("list_projects", {"workspace_id": ws_id}, alice)
    assert [p["name"] for p in projects.content["projects"]] == ["Arm"]
    documents = await REGISTRY.execute("list_documents", {"project_id": proj_id}, alice)
    assert [d["name"] for d in documents.content["documents"]] == ["gripper"]

    # bob sees none of it and cannot build on it
    assert (await REGISTRY.execute("list_workspaces", {}, bob)).content == {"workspaces": []}
    assert (await REGISTRY.execute("list_documents", {}, bob)).content == {"documents": []}
    denied = await REGISTRY.execute("create_project", {"workspace_id": ws_id, "name": "X"}, bob)
    assert not denied.ok and denied.error and denied.error.code == "not_found"


async def test_navigation_is_client_side_and_checked(catalog: CatalogRepository) -> None:
    alice = ToolContext(user_id="alice", catalog=catalog)
    ws = (await REGISTRY.execute("create_workspace", {"name": "W"}, alice)).content["workspace"]
    proj = (
        await REGISTRY.execute("create_project", {"workspace_id": ws["id"], "name": "P"}, alice)
    ).content["project"]
    doc = (
        await REGISTRY.execute("create_document", {"name": "d", "project_id": proj["id"]}, alice)
    ).content["document"]

    opened = await REGISTRY.execute("open_project", {"project_id": proj["id"]}, alice)
    assert opened.ok and opened.navigation is not None
    assert opened.navigation.kind == "project" and opened.navigation.id == proj["id"]
    opened = await REGISTRY.execute("open_document", {"document_id": doc["id"]}, alice)
    assert opened.navigation is not None and opened.navigation.kind == "document"
    assert '"navigation"' in opened.model_text()

    bob = ToolContext(user_id="bob", catalog=catalog)
    other = await REGISTRY.execute("open_document", {"document_id": doc["id"]}, bob)
    assert not other.ok and other.error and other.error.code == "not_found"
    missing = await REGISTRY.execute("open_project", {"project_id": str(uuid.uuid4())}, alice)
    assert missing.error and missing.error.code == "not_found"


async def test_bad_input_is_a_tool_error(catalog: CatalogRepository) -> None:
    alice = ToolContext(user_id="alice", catalog=catalog)
    bad_id = await REGISTRY.execute("open_project", {"project_id": "not-a-uuid"}, alice)
    assert bad_id.error and bad_id.error.code == "invalid_arguments"
    bad_name = await REGISTRY.execute("create_workspace", {"name": "../etc"}, alice)
    assert bad_name.error and bad_name.error.code == "invalid_arguments"
    assert "cannot contain" in bad_name.error.message
    await REGISTRY.execute("create_workspace", {"name": "Same"}, alice)
    again = await REGISTRY.execute("create_workspace", {"name": "Same"}, alice)
    assert again.error and "already have" in again.error.message
    no_catalog = await REGISTRY.execute("list_workspaces", {}, ToolContext(user_id="alice"))
    assert no_catalog.error and no_catalog.error.code == "no_catalog"

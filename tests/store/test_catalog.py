"""CatalogRepository: workspaces, projects and documents with stable ids across renames."""

from __future__ import annotations

import pytest

from solidtype_jupyter.store import (
    CatalogConflictError,
    CatalogError,
    CatalogNotFoundError,
    CatalogRepository,
    ChatSessionRepository,
)


async def test_create_and_list_per_user(catalog: CatalogRepository):
    shop = await catalog.create_workspace("alice", "Shop")
    home = await catalog.create_workspace("alice", "Home", path="work/home")
    await catalog.create_workspace("bob", "Shop")  # same path, other owner: fine
    assert [w.name for w in await catalog.list_workspaces("alice")] == ["Home", "Shop"]
    assert (shop.path, home.path) == ("Shop", "work/home")
    jigs = await catalog.create_project("alice", shop.id, "Jigs")
    await catalog.create_project("alice", home.id, "Shelf")
    assert jigs.path == "Shop/Jigs" and jigs.workspace_id == shop.id
    assert [p.name for p in await catalog.list_projects("alice", shop.id)] == ["Jigs"]
    assert len(await catalog.list_projects("alice")) == 2
    plate = await catalog.create_document("alice", "base plate", project_id=jigs.id)
    loose = await catalog.create_document("alice", "scratch.solid.json")
    assert plate.path == "Shop/Jigs/base plate.solid.json" and plate.name == "base plate"
    assert loose.path == "scratch.solid.json" and loose.project_id is None
    assert [d.id for d in await catalog.list_documents("alice", jigs.id)] == [plate.id]
    assert {d.id for d in await catalog.list_documents("alice")} == {plate.id, loose.id}
    assert await catalog.list_documents("bob") == []
    assert await catalog.get_document("alice", plate.id) == plate
    assert await catalog.get_document("bob", plate.id) is None
    assert await catalog.get_project("bob", jigs.id) is None
    assert await catalog.get_workspace("bob", shop.id) is None


async def test_other_users_containers_are_not_found(catalog: CatalogRepository):
    shop = await catalog.create_workspace("alice", "Shop")
    jigs = await catalog.create_project("alice", shop.id, "Jigs")
    with pytest.raises(CatalogNotFoundError):
        await catalog.create_project("bob", shop.id, "Mine now")
    with pytest.raises(CatalogNotFoundError):
        await catalog.create_document("bob", "Mine now", project_id=jigs.id)


async def test_duplicates_and_bad_names_are_refused(catalog: CatalogRepository):
    shop = await catalog.create_workspace("alice", "Shop")
    with pytest.raises(CatalogConflictError, match="Shop"):
        await catalog.create_workspace("alice", "Shop")
    await catalog.create_project("alice", shop.id, "Jigs")
    with pytest.raises(CatalogConflictError):
        await catalog.create_project("alice", shop.id, "Jigs")
    for bad in ("", "   ", "a/b", "..", ".hidden", "x" * 121, "tab\there", "back\\slash"):
        with pytest.raises(CatalogError):
            await catalog.create_workspace("alice", bad)
    with pytest.raises(CatalogError):
        await catalog.create_workspace("alice", "ok", path="../outside")


async def test_register_document_is_idempotent_and_finds_its_project(
    catalog: CatalogRepository,
):
    shop = await catalog.create_workspace("alice", "Shop")
    jigs = await catalog.create_project("alice", shop.id, "Jigs")
    first = await catalog.register_document("alice", "/Shop/Jigs/clamp.solid.json")
    again = await catalog.register_document("alice", "Shop/Jigs/clamp.solid.json")
    assert first == again
    assert first.project_id == jigs.id and first.name == "clamp"
    theirs = await catalog.register_document("bob", "Shop/Jigs/clamp.solid.json")
    assert theirs.id != first.id and theirs.project_id is None
    with pytest.raises(CatalogError, match=r"solid\.json"):
        await catalog.register_document("alice", "notes.txt")


async def test_renames_keep_ids_and_sessions(
    catalog: CatalogRepository, sessions: ChatSessionRepository
):
    shop = await catalog.create_workspace("alice", "Shop")
    jigs = await catalog.create_project("alice", shop.id, "Jigs")
    plate = await catalog.create_document("alice", "plate", project_id=jigs.id)
    similar = await catalog.create_document("alice", "plate")  # "plate.solid.json" at the root
    prefix_twin = await catalog.create_workspace("alice", "Shop_old")  # not under "Shop/"
    session = await sessions.create("alice", "editor", document_id=plate.id, project_id=jigs.id)

    # Rename the workspace folder: everything below moves, ids stay.
    assert await catalog.move_path("Shop", "Workshop") == 3
    moved = await catalog.get_document("alice", plate.id)
    assert moved is not None and moved.path == "Workshop/Jigs/plate.solid.json"
    project = await catalog.get_project("alice", jigs.id)
    assert project is not None and project.path == "Workshop/Jigs" and project.name == "Jigs"
    workspace = await catalog.get_workspace("alice", shop.id)
    assert workspace is not None and (workspace.name, workspace.path) == ("Workshop", "Workshop")
    assert (await catalog.get_workspace("alice", prefix_twin.id)) == prefix_twin
    assert (await catalog.get_document("alice", similar.id)) == similar

    # Rename the document file itself.
    await catalog.move_path("Workshop/Jigs/plate.solid.json", "Workshop/Jigs/base.solid.json")
    renamed = await catalog.get_document("alice", plate.id)
    assert renamed is not None and renamed.name == "base"
    kept = await sessions.get("alice", session.id)
    assert kept is not None and kept.document_id == plate.id

    # An owner filter leaves other owners' entries alone.
    bobs = await catalog.create_workspace("bob", "Workshop")
    assert await catalog.move_path("Workshop", "Attic", owner_id="alice") == 3
    assert (await catalog.get_workspace("bob", bobs.id)) == bobs


async def test_forget_path_drops_entries_below(catalog: CatalogRepository):
    shop = await catalog.create_workspace("alice", "Shop")
    jigs = await catalog.create_project("alice", shop.id, "Jigs")
    await catalog.create_document("alice", "plate", project_id=jigs.id)
    keep = await catalog.create_document("alice", "other")
    assert await catalog.forget_path("Shop") == 3
    assert await catalog.list_workspaces("alice") == []
    assert await catalog.list_projects("alice") == []
    assert [d.id for d in await catalog.list_documents("alice")] == [keep.id]

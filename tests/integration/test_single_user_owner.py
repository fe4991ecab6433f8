"""A single-user server's token logins name nobody (jupyter_server makes each one a random
anonymous user); their sessions belong to the server's owner, the user kernels use, so a
session started with ``%ai_chat`` is the side panel's too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from traitlets import TraitError

from solidtype_jupyter.protocol.sessions import ChatContext
from solidtype_jupyter.server.extension import SolidTypeApp


@pytest.fixture
def jp_server_config(sqlite_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"solidtype_jupyter": True}},
        "SolidTypeApp": {"database_url": sqlite_url, "anonymous_owner": "ada"},
    }


def extension(serverapp: Any) -> Any:
    return serverapp.extension_manager.extension_points["solidtype"].app


async def test_token_logins_share_the_owners_sessions(jp_fetch, jp_serverapp):
    # What a kernel of the owner does (%ai_chat): a session of "ada" in the same database.
    from_kernel = await extension(jp_serverapp).sessions.create("ada", ChatContext.EDITOR)
    created = await jp_fetch(
        "solidtype",
        "api",
        "ai",
        "sessions",
        method="POST",
        body=json.dumps({"context": "dashboard"}),
    )
    from_panel = json.loads(created.body)["id"]
    # Two token requests are two different anonymous users to jupyter_server, yet one owner.
    listed = json.loads((await jp_fetch("solidtype", "api", "ai", "sessions")).body)
    assert {s["id"] for s in listed["sessions"]} == {str(from_kernel.id), from_panel}
    mine = await extension(jp_serverapp).sessions.list("ada", None, 10)
    assert len(mine) == 2


def test_the_owner_defaults_to_the_local_user(monkeypatch):
    monkeypatch.setenv("SOLIDTYPE_USER", "grace")
    assert SolidTypeApp().anonymous_owner == "grace"
    with pytest.raises(TraitError, match="1 to 255"):
        SolidTypeApp(anonymous_owner="  ")

"""Without jupyter-collaboration in the server, presence is off and agents run as usual."""

from __future__ import annotations

from typing import Any

import pytest

from .test_presence import extension, spawn


@pytest.fixture
def jp_server_config(sqlite_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"solidtype_jupyter": True}},
        "SolidTypeApp": {"database_url": sqlite_url, "model": "scripted:quickstart"},
    }


async def test_agents_run_without_presence(jp_fetch, jp_serverapp):
    await jp_fetch("api", "status")
    ext = extension(jp_serverapp)
    assert not ext.presence.enabled
    identity = await spawn(ext)
    assert ext.agents.live(identity.session_id).state.status in ("ready", "busy")
    assert ext.presence.slots == {}
    await ext.agents.terminate(identity.session_id)

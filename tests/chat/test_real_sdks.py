"""The chat route on the real ``anthropic`` and ``openai`` SDKs, against a local server that
speaks their streaming formats (``tests/llm/fake_llm_server.py``): a tool round trip through
the registry and the catalog, and a 429 answered by a retry, all stored in the stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm.fake_llm_server import FakeLLMServer, HttpError, ToolUse, Turn

from solidtype_jupyter.store import backend_name, upgrade_schema

from .conftest import ALICE, HeaderIdentityProvider
from .test_chat_routes import stored_events, text_of, types

MODELS = {"anthropic": "anthropic:claude-sonnet", "openai": "openai-compatible:fake-model"}


@pytest.fixture(params=sorted(MODELS))
def provider(request) -> str:
    return str(request.param)


@pytest.fixture
def fake_llm(provider: str, monkeypatch) -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        if provider == "anthropic":
            monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
            monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_url)
        else:
            monkeypatch.setenv("OPENAI_API_KEY", "test-key")
            monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
        yield server


@pytest.fixture
def jp_server_config(
    database_url: str, provider: str, fake_llm: FakeLLMServer, script_path: Path
) -> dict[str, Any]:
    if backend_name(database_url) == "postgresql":
        upgrade_schema(database_url)
    return {
        "ServerApp": {
            "jpserver_extensions": {"solidtype_jupyter": True},
            "identity_provider_class": HeaderIdentityProvider,
        },
        "SolidTypeApp": {"database_url": database_url, "model": MODELS[provider]},
    }


async def test_tool_round_trip_and_429_through_the_route(
    chat, jp_serverapp, fake_llm, provider, database_url
):
    script = fake_llm.script(provider)
    script.push(
        Turn(
            text=["Let me ", "look."],
            tool_calls=[ToolUse("call_ws_1", "list_workspaces", ["{", "}"])],
        ),
        HttpError(429),
        Turn(text=["You have ", "no workspaces yet."]),
    )
    session_id = await chat.session(ALICE)
    code, frames = await chat.turn(ALICE, session_id, "What workspaces do I have?")
    assert code == 200, frames
    assert types(frames)[:2] == ["CUSTOM", "RUN_STARTED"]
    assert "TOOL_CALL_START" in types(frames) and "TOOL_CALL_RESULT" in types(frames)
    result = next(e for _, e in frames if e["type"] == "TOOL_CALL_RESULT")
    assert result["toolCallId"] == "call_ws_1"
    assert json.loads(result["content"])["workspaces"] == []
    assert text_of(frames) == "Let me look.You have no workspaces yet."
    assert frames[-1][1]["type"] == "RUN_FINISHED"
    # The 429 was retried: three requests, the last two carry the tool result.
    requests = fake_llm.requests_to(provider)
    assert len(requests) == 3
    assert "call_ws_1" in json.dumps(requests[-1].body)
    stored = await stored_events(jp_serverapp, session_id)
    assert stored[3:] == [event for _, event in frames]

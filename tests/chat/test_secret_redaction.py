"""A provider error that echoes the API key reaches neither the client, nor the stream, nor
the log: the real ``anthropic`` and ``openai`` SDKs against the local fake provider
(``tests/llm/fake_llm_server.py``), through the chat route of a real jupyter_server."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from llm.fake_llm_server import FakeLLMServer, HttpError

from solidtype_jupyter.store import backend_name, upgrade_schema

from .conftest import ALICE, BOB, HeaderIdentityProvider
from .test_chat_routes import stored_events

MODELS = {"anthropic": "anthropic:claude-sonnet", "openai": "openai-compatible:fake-model"}


@pytest.fixture(params=sorted(MODELS))
def provider(request) -> str:
    return str(request.param)


@pytest.fixture
def api_key(provider: str) -> str:
    # Anthropic's shape (also caught as "key-shaped"), and a local server's key that looks
    # like nothing in particular (caught only because it is the configured one).
    if provider == "anthropic":
        return f"sk-ant-api03-{secrets.token_urlsafe(40)}"
    return f"proxy{secrets.token_hex(20)}"


@pytest.fixture
def fake_llm(provider: str, api_key: str, monkeypatch) -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        if provider == "anthropic":
            monkeypatch.setenv("ANTHROPIC_API_KEY", api_key)
            monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_url)
        else:
            monkeypatch.setenv("OPENAI_API_KEY", api_key)
            monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
        yield server


@pytest.fixture
def jp_server_config(database_url: str, provider: str, fake_llm: FakeLLMServer) -> dict[str, Any]:
    if backend_name(database_url) == "postgresql":
        upgrade_schema(database_url)
    return {
        "ServerApp": {
            "jpserver_extensions": {"solidtype_jupyter": True},
            "identity_provider_class": HeaderIdentityProvider,
        },
        "SolidTypeApp": {"database_url": database_url, "model": MODELS[provider]},
    }


async def test_a_provider_error_echoing_the_key_is_redacted_everywhere(
    chat, jp_serverapp, fake_llm, provider, api_key, caplog
):
    caplog.set_level(logging.DEBUG)
    fragment = api_key[14:34]  # part of the key, as a truncating proxy would echo it
    for user in (ALICE, BOB):  # two users, two sessions: the same on each
        fake_llm.script(provider).push(
            HttpError(
                401,
                "authentication_error",
                f"invalid x-api-key: {api_key} (a key starting {fragment} is not known)",
                retry_after_ms=None,
            )
        )
        session_id = await chat.session(user)
        code, frames = await chat.turn(user, session_id, "hello")
        assert code == 200, frames
        error = frames[-1][1]
        assert error["type"] == "RUN_ERROR", error
        assert error["code"] == "auth" and "[redacted]" in error["message"], error
        sent = json.dumps(frames)
        stored = json.dumps(await stored_events(jp_serverapp, session_id))
        _, _, hydrated = await chat.call(user, "GET", "session", session_id)
        for where in (sent, stored, json.dumps(hydrated), caplog.text):
            assert api_key not in where and fragment not in where
    # The request did carry the key: what was redacted is what the provider echoed.
    assert any(api_key in json.dumps(r.headers) for r in fake_llm.requests_to(provider))

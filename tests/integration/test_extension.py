"""The extension loads in a real jupyter_server and answers on its routes."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from solidtype_jupyter import __version__


async def test_health_reports_version_backend_and_model(jp_fetch, monkeypatch):
    response = await jp_fetch("solidtype", "api", "health")
    assert response.code == 200
    body = json.loads(response.body)
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"] == {"backend": "sqlite"}
    assert body["default_runtime"] == "kernel"


async def test_health_never_shows_the_api_key(jp_fetch, jp_serverapp, monkeypatch):
    secret = "sk-ant-test-secret-value"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    response = await jp_fetch("solidtype", "api", "health")
    text = response.body.decode()
    assert secret not in text
    assert json.loads(text)["model"] == {
        "configured": True,
        "provider": "anthropic",
        "name": "claude-sonnet",
        "demo": False,  # a real model: no demo banner
        "demo_notice": None,
        "demo_prompts": [],
    }


async def test_health_without_key_or_model_says_not_configured(jp_fetch, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    response = await jp_fetch("solidtype", "api", "health")
    assert json.loads(response.body)["model"]["configured"] is False


async def test_health_requires_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("solidtype", "api", "health", headers={"Authorization": ""})
    assert info.value.code == 403


async def test_extension_creates_embedded_sqlite_schema(jp_serverapp, sqlite_url):
    from solidtype_jupyter.store.database import schema_status

    assert schema_status(sqlite_url).up_to_date


async def test_the_servers_configured_token_is_redacted_from_errors(jp_serverapp):
    """A token set in the server's config is in no environment variable: the extension
    registers it, so a provider or agent error that echoes it never shows it."""
    from solidtype_jupyter.llm.redact import redact

    token = jp_serverapp.identity_provider.token
    assert token and token not in redact(f"upstream said: bad credentials {token}!")

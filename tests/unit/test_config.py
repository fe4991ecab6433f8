"""Configuration: traits validate their values with readable errors."""

from __future__ import annotations

import pytest
from traitlets import TraitError
from traitlets.config import Config

from solidtype_jupyter.llm.model_choice import ModelChoice, demo_model, resolve_model
from solidtype_jupyter.server.extension import SolidTypeApp
from solidtype_jupyter.store.database import normalize_database_url


def test_database_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SOLIDTYPE_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    assert SolidTypeApp().database_url == f"sqlite:///{tmp_path}/x.db"


def test_database_url_default_is_sqlite_in_jupyter_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("SOLIDTYPE_DATABASE_URL", raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    assert SolidTypeApp().database_url == f"sqlite:///{tmp_path}/solidtype/solidtype.db"


def test_config_beats_environment(monkeypatch):
    monkeypatch.setenv("SOLIDTYPE_DATABASE_URL", "sqlite:///from-env.db")
    config = Config({"SolidTypeApp": {"database_url": "postgresql://u@h/db"}})
    assert SolidTypeApp(config=config).database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_database_url_is_refused(url):
    with pytest.raises(TraitError, match="database_url"):
        SolidTypeApp(database_url=url)


def test_postgres_url_gets_psycopg3_driver():
    assert normalize_database_url("postgresql://a@b:5432/c") == "postgresql+psycopg://a@b:5432/c"
    assert normalize_database_url("postgresql+psycopg://a@b/c") == "postgresql+psycopg://a@b/c"


@pytest.mark.parametrize("value", ["gpt-4o", "nosuch:model", "anthropic:", ":x"])
def test_malformed_model_is_refused(value):
    with pytest.raises(TraitError, match="provider:model"):
        SolidTypeApp(model=value)


def test_model_resolution():
    assert resolve_model("", {}) is None
    assert resolve_model("", {"ANTHROPIC_API_KEY": "k"}) == ModelChoice(
        "anthropic", "claude-sonnet"
    )
    assert resolve_model("openai-compatible:llama3.1", {}) == ModelChoice(
        "openai-compatible", "llama3.1"
    )


def test_demo_notebooks_use_the_configured_model_else_their_script():
    assert demo_model("quickstart", {}) == "scripted:quickstart"
    assert demo_model("quickstart", {"ANTHROPIC_API_KEY": "k"}) == "anthropic:claude-sonnet"
    local = {"SOLIDTYPE_MODEL": "openai-compatible:qwen2.5-coder:7b", "ANTHROPIC_API_KEY": "k"}
    assert demo_model("quickstart", local) == "openai-compatible:qwen2.5-coder:7b"
    demo_server = {"SOLIDTYPE_MODEL": "scripted:quickstart"}
    assert demo_model("sessions-and-resume", demo_server) == "scripted:sessions-and-resume"
    with_key = {**demo_server, "ANTHROPIC_API_KEY": "k"}
    assert demo_model("sessions-and-resume", with_key) == "anthropic:claude-sonnet"
    with pytest.raises(ValueError, match="provider:model"):
        demo_model("quickstart", {"SOLIDTYPE_MODEL": "gpt"})


@pytest.mark.parametrize("value", [0, -1, 7200])
def test_long_poll_timeout_bounds(value):
    with pytest.raises(TraitError, match="long_poll_timeout"):
        SolidTypeApp(long_poll_timeout=value)


def test_runtime_choices():
    with pytest.raises(TraitError):
        SolidTypeApp(default_runtime="docker")
    assert SolidTypeApp().default_runtime == "kernel"

"""Without a model, the chat says what to change where the model is chosen: the Jupyter
server's environment (side panel), this notebook (``%ai_chat``) or the terminal
(``solidtype-jupyter chat``, tested in tests/chat/test_cli.py)."""

from __future__ import annotations

import pytest

from solidtype_jupyter.llm import ModelChoice, ModelNotConfigured, create_adapter

NO_MODEL_ENV = ("ANTHROPIC_API_KEY", "SOLIDTYPE_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL")


def test_the_server_is_told_to_set_its_environment_and_restart():
    with pytest.raises(ModelNotConfigured) as raised:
        create_adapter(None, {})
    assert "environment of the Jupyter server" in str(raised.value)
    assert "restart the server" in str(raised.value)


def test_a_notebook_is_told_how_to_choose_a_model_from_the_notebook(tmp_path, monkeypatch):
    from solidtype_jupyter.widgets.magics import _model

    for name in NO_MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))  # no c.SolidTypeApp.model
    factory, label = _model(None)
    assert label == "no model configured"
    with pytest.raises(ModelNotConfigured) as raised:
        factory()
    message = str(raised.value)
    assert message.startswith("No chat model is configured.")
    assert "%ai_chat --model" in message and 'os.environ["ANTHROPIC_API_KEY"]' in message
    assert "Jupyter server" not in message and "restart" not in message

    factory, _ = _model("anthropic:claude-sonnet")
    with pytest.raises(ModelNotConfigured, match=r"ANTHROPIC_API_KEY is not set\. Choose one"):
        factory()


def test_every_reason_ends_with_the_callers_advice():
    advice = "ADVICE"
    for choice in (None, ModelChoice("anthropic", "x"), ModelChoice("openai-compatible", "x")):
        with pytest.raises(ModelNotConfigured) as raised:
            create_adapter(choice, {}, how_to_configure=advice)
        assert str(raised.value).endswith(advice)

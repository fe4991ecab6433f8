"""From the ``model`` setting (``ModelChoice``) to a ready adapter, or to a clear reason why not.

Environment read here: ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL`` for ``anthropic``;
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` for ``openai-compatible`` (a local server such as
Ollama at ``http://localhost:11434/v1`` needs no key). With no usable model the chat answers
with ``not_configured_run``: one message saying how to configure one, never a made-up answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..protocol import agui
from .adapters.anthropic import AnthropicAdapter
from .adapters.openai_compatible import OpenAICompatibleAdapter
from .adapters.scripted import ScriptedAdapter, ScriptError
from .model_choice import DEMO_NOTICE, ModelChoice, is_demo, resolve_model
from .retry import RetryPolicy
from .types import ModelAdapter

_MODELS = (
    "`anthropic:claude-sonnet`, `openai-compatible:<model>` with OPENAI_BASE_URL (e.g. "
    "http://localhost:11434/v1 for Ollama) and OPENAI_API_KEY if the server needs one, or "
    "`scripted:quickstart` for the scripted demo model"
)
# What to change depends on where the model is chosen: the Jupyter server's environment and
# config (the side panel, its agent kernels), the terminal's (`solidtype-jupyter chat`), or
# the notebook kernel's (`%ai_chat`). Each caller passes its own to ``create_adapter``.
HOW_TO_CONFIGURE = (
    "Set ANTHROPIC_API_KEY in the environment of the Jupyter server (Claude is then the "
    "default), or choose a model with `c.SolidTypeApp.model` in jupyter_server_config.py or "
    f"the SOLIDTYPE_MODEL environment variable: {_MODELS}. Then restart the server."
)
HOW_TO_CONFIGURE_TERMINAL = (
    "Set ANTHROPIC_API_KEY in this terminal's environment (Claude is then the default), or "
    f"choose a model with --model or the SOLIDTYPE_MODEL environment variable: {_MODELS}."
)
HOW_TO_CONFIGURE_KERNEL = (
    "Choose one with `%ai_chat --model ...`: "
    f"{_MODELS}. For Claude, set the key in this notebook first "
    '(`os.environ["ANTHROPIC_API_KEY"] = ...`) and run `%ai_chat` again.'
)


def demo_description(model: ModelChoice | str | None) -> dict[str, Any] | None:
    """What a UI shows for a recorded demo (``{"notice", "prompts"}``: the line saying so and
    how to connect a real model, and the requests the demo can replay), or None for a real
    model. ``model`` is a choice or its ``provider:name`` label."""
    if isinstance(model, str):
        try:
            model = resolve_model(model, {})
        except ValueError:  # "no model configured" and other labels that are not a setting
            return None
    if not is_demo(model):
        return None
    assert model is not None
    try:
        prompts = ScriptedAdapter.from_file(model.name).prompts
    except (OSError, ScriptError):  # the chat itself says why when it is used
        prompts = []
    return {"notice": DEMO_NOTICE, "prompts": prompts}


class ModelNotConfigured(Exception):
    """No usable model; ``str(exc)`` is the message the chat shows."""


def create_adapter(
    choice: ModelChoice | None,
    environ: Mapping[str, str],
    *,
    retry: RetryPolicy | None = None,
    how_to_configure: str = HOW_TO_CONFIGURE,
) -> ModelAdapter:
    """``how_to_configure``: the advice a missing model's message ends with, for where the
    user chooses the model (``HOW_TO_CONFIGURE`` for the server, ``..._TERMINAL``,
    ``..._KERNEL``)."""
    if choice is None:
        raise ModelNotConfigured(f"No chat model is configured. {how_to_configure}")
    if choice.provider == "anthropic":
        key = environ.get("ANTHROPIC_API_KEY", "").strip()
        if not key:
            raise ModelNotConfigured(
                f"The model is {choice.provider}:{choice.name} but ANTHROPIC_API_KEY is not "
                f"set. {how_to_configure}"
            )
        return AnthropicAdapter(
            choice.name,
            api_key=key,
            base_url=environ.get("ANTHROPIC_BASE_URL") or None,
            retry=retry,
        )
    if choice.provider == "openai-compatible":
        key = environ.get("OPENAI_API_KEY", "").strip()
        base_url = environ.get("OPENAI_BASE_URL", "").strip()
        if not key and not base_url:
            raise ModelNotConfigured(
                f"The model is {choice.provider}:{choice.name} but neither OPENAI_BASE_URL "
                f"(a local server) nor OPENAI_API_KEY (OpenAI) is set. {how_to_configure}"
            )
        return OpenAICompatibleAdapter(
            choice.name, api_key=key or None, base_url=base_url or None, retry=retry
        )
    if choice.provider == "scripted":
        try:
            return ScriptedAdapter.from_file(choice.name)
        except (OSError, ScriptError) as exc:
            raise ModelNotConfigured(f"The scripted model cannot be loaded: {exc}") from exc
    raise ModelNotConfigured(f"Unknown model provider {choice.provider!r}. {how_to_configure}")


async def not_configured_run(
    thread_id: str, run_id: str, message: str
) -> AsyncIterator[agui.AguiEvent]:
    """The whole answer of a chat without a model: the explanation, marked as a notice
    (``metadata.solidtype.notice``) so a UI can show it apart from model text."""
    notice = {"solidtype": {"notice": "model_not_configured"}}
    message_id = f"notice_{run_id}"
    yield agui.RunStarted(run_id=run_id, thread_id=thread_id)
    yield agui.Custom(
        name=agui.NOTICE_EVENT, value={"kind": "model_not_configured", "message": message}
    )
    yield agui.TextMessageStart(message_id=message_id, metadata=notice)
    yield agui.TextMessageContent(message_id=message_id, delta=message, metadata=notice)
    yield agui.TextMessageEnd(message_id=message_id, metadata=notice)
    yield agui.RunFinished(
        run_id=run_id,
        thread_id=thread_id,
        metadata={
            **agui.tanstack_metadata(finishReason="stop"),
            "solidtype": {"reason": "model_not_configured"},
        },
    )

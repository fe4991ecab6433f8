"""Reading the ``model`` setting: which provider and model the chat would use.

Only names are resolved here; the adapters that talk to a provider live in ``llm/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PROVIDERS = ("anthropic", "openai-compatible", "scripted")
DEFAULT_ANTHROPIC_MODEL = "claude-sonnet"


@dataclass(frozen=True)
class ModelChoice:
    provider: str
    name: str


def resolve_model(setting: str, environ: Mapping[str, str]) -> ModelChoice | None:
    """``provider:model`` → ``ModelChoice``; empty → Anthropic when a key is set, else None.

    Raises ``ValueError`` with the accepted forms for a malformed setting.
    """
    setting = setting.strip()
    if not setting:
        if environ.get("ANTHROPIC_API_KEY"):
            return ModelChoice("anthropic", DEFAULT_ANTHROPIC_MODEL)
        return None
    provider, sep, name = setting.partition(":")
    if not sep or provider not in PROVIDERS or not name.strip():
        raise ValueError(
            f"model must be `provider:model` with provider one of {', '.join(PROVIDERS)} "
            f"(e.g. `anthropic:claude-sonnet`), got {setting!r}"
        )
    return ModelChoice(provider, name.strip())


def demo_model(script: str, environ: Mapping[str, str]) -> str:
    """The model a demo notebook uses: a real one when configured (``SOLIDTYPE_MODEL``, else
    Anthropic when ``ANTHROPIC_API_KEY`` is set), else the notebook's own scripted
    conversation ``script``, so every demo runs without a key and becomes a real chat as soon
    as one is set. A scripted ``SOLIDTYPE_MODEL`` (what ``make lab`` and Binder set when there
    is no key) counts as no model: each notebook replays its own script."""
    configured = resolve_model(environ.get("SOLIDTYPE_MODEL", ""), environ)
    if configured is not None and configured.provider == "scripted":
        configured = resolve_model("", environ)
    if configured is None:
        return f"scripted:{script}"
    return f"{configured.provider}:{configured.name}"

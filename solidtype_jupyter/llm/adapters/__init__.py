"""Model adapters: ``AnthropicAdapter``, ``OpenAICompatibleAdapter``, ``ScriptedAdapter``."""

from .anthropic import AnthropicAdapter, resolve_anthropic_model
from .openai_compatible import OpenAICompatibleAdapter
from .scripted import ScriptedAdapter, ScriptError, load_script, parse_script

__all__ = [
    "AnthropicAdapter",
    "OpenAICompatibleAdapter",
    "ScriptError",
    "ScriptedAdapter",
    "load_script",
    "parse_script",
    "resolve_anthropic_model",
]

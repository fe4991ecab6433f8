"""Secrets out of error text, before it is stored, sent or logged.

A provider's error can echo what it was sent: "invalid x-api-key: sk-ant-…", a proxy's
"Bearer …" in a 401, part of a key. That text becomes a ``RUN_ERROR`` (sent over SSE, stored
in the session's durable stream) and log lines. ``redact`` replaces, in any text:

- the values of the configured secrets: the keys in the environment (``SECRET_ENVIRONMENT``)
  and what the server registers (``register_secret``: ``agent_remote_token``, the server's
  own token), and any run of at least ``MIN_FRAGMENT`` key characters that is part of one
  of them (a truncated echo);
- key-shaped strings whoever they belong to: ``sk-…`` (OpenAI, ``sk-ant-…`` Anthropic),
  ``Bearer …`` and ``token …`` credentials, ``x-api-key: …`` / ``api_key=…`` pairs.

``redact_event`` applies it to an AG-UI ``RUN_ERROR``; ``RedactingFilter`` to log records (the
message, its arguments and the formatted traceback) of the loggers it is installed on.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping

from ..protocol import agui

#: Environment variables whose values are secrets wherever they show up.
SECRET_ENVIRONMENT = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "SOLIDTYPE_AGENT_REMOTE_TOKEN",
    "JUPYTER_TOKEN",
    "JUPYTERHUB_API_TOKEN",
)
REDACTED = "[redacted]"
#: Shorter values are not treated as secrets (a key of "x" would redact every x), and shorter
#: fragments of a secret are left alone (they give too little away to be worth mangling text).
MIN_SECRET = 8
MIN_FRAGMENT = 8

_registered: set[str] = set()
_lock = threading.Lock()

_KEY_CHARS = r"[A-Za-z0-9_\-.~+/=]"
_FRAGMENT = re.compile(rf"{_KEY_CHARS}{{{MIN_FRAGMENT},}}")
_KEY_SHAPED = re.compile(
    r"(?i)"
    # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-api03-), also when partly masked with *
    r"\b(?:sk|rk)-[A-Za-z0-9_\-*]{8,}"
    # credentials after an auth scheme or a key-naming field
    r"|(?<=bearer )[A-Za-z0-9_\-.~+/=]{8,}"
    r"|(?<=token )[A-Za-z0-9_\-.~+/=]{16,}"
    r"|(?<=api[-_]key[:=] )[^\s'\",;]{8,}"
    r"|(?<=api[-_]key[:=])[^\s'\",;]{8,}"
)


def register_secret(value: str | None) -> None:
    """Treat ``value`` as a secret from now on (configured tokens that are not in the
    environment, e.g. ``SolidTypeApp.agent_remote_token`` set in a config file)."""
    if value and len(value) >= MIN_SECRET:
        with _lock:
            _registered.add(value)


def configured_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values known here, longest first (so a key that contains another goes
    first)."""
    env = os.environ if environ is None else environ
    values = {env.get(name, "") for name in SECRET_ENVIRONMENT}
    with _lock:
        values |= _registered
    return sorted((v for v in values if len(v) >= MIN_SECRET), key=len, reverse=True)


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret and key-shaped string replaced by ``[redacted]``."""
    if not text:
        return text
    secrets = configured_secrets(environ)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    if secrets:
        text = _FRAGMENT.sub(
            lambda m: REDACTED if any(m.group(0) in s for s in secrets) else m.group(0), text
        )
    return _KEY_SHAPED.sub(REDACTED, text)


def redact_event(event: agui.AguiEvent) -> agui.AguiEvent:
    """A ``RUN_ERROR`` with its message redacted; any other event unchanged."""
    if isinstance(event, agui.RunError):
        message = redact(event.message)
        if message != event.message:
            return event.model_copy(update={"message": message})
    return event


class RedactingFilter(logging.Filter):
    """Redacts a record's message, arguments and traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install_log_redaction(names: Iterable[str]) -> None:
    """Put the filter on these loggers (filters apply to records logged to the logger they
    are on, not to its children: name each logger that logs error text)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# The loggers that write model, tool and agent errors.
install_log_redaction(
    [
        "solidtype_jupyter.llm.loop",
        "solidtype_jupyter.llm.retry",
        "solidtype_jupyter.llm.tool_executor",
        "solidtype_jupyter.agent.chat_service",
        "solidtype_jupyter.agent.core",
        "solidtype_jupyter.agent.client",
        "solidtype_jupyter.agent.kernel_runtime",
        "solidtype_jupyter.agent.remote_runtime",
    ]
)

__all__ = [
    "REDACTED",
    "SECRET_ENVIRONMENT",
    "RedactingFilter",
    "configured_secrets",
    "install_log_redaction",
    "redact",
    "redact_event",
    "register_secret",
]

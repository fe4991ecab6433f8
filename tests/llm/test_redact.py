"""``llm.redact``: configured secrets, their fragments and key-shaped strings leave error text
and log records; ordinary text is left alone."""

from __future__ import annotations

import logging

from solidtype_jupyter.llm.redact import (
    REDACTED,
    install_log_redaction,
    redact,
    redact_event,
    register_secret,
)
from solidtype_jupyter.llm.types import ModelError
from solidtype_jupyter.protocol import agui

KEY = "proxy-7f3a9c1e5b2d4f6a8c0e"
ENV = {"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": "short"}


def test_configured_keys_and_their_fragments_are_redacted():
    text = f"401: invalid key {KEY}; the key starting {KEY[6:20]} is unknown"
    assert (
        redact(text, ENV) == f"401: invalid key {REDACTED}; the key starting {REDACTED} is unknown"
    )
    # Too short to be treated as a secret, or a fragment too short to matter: kept.
    assert redact("short answer, proxy-7 here", ENV) == "short answer, proxy-7 here"


def test_key_shaped_strings_are_redacted_whoever_they_belong_to():
    for secret, text in [
        ("sk-ant-api03-AbC_dEf-123456789", "invalid x-api-key sk-ant-api03-AbC_dEf-123456789"),
        (
            "sk-proj-********************abcd",
            "Incorrect API key provided: sk-proj-****" + "*" * 16 + "abcd.",
        ),
        ("eyJhbGciOiJIUzI1NiJ9.e30.abc", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"),
        ("0123456789abcdef0123", "header x-api-key: 0123456789abcdef0123"),
        ("0123456789abcdef0123", "url ?api_key=0123456789abcdef0123&x=1"),
    ]:
        cleaned = redact(text, {})
        assert secret not in cleaned and REDACTED in cleaned, (text, cleaned)


def test_ordinary_error_text_is_kept():
    for text in [
        "Anthropic overloaded: try again later (path: /v1/messages)",
        "run run-1f2e3d4c of session 9b2f3c8e-0d1a-4e5f-8a7b-6c5d4e3f2a1b failed",
        "the tokenizer counted 123456789 tokens; risk-assessment pending",
    ]:
        assert redact(text, ENV) == text


def test_registered_secrets_model_errors_and_run_errors():
    register_secret("remote-token-from-a-config-file")
    assert REDACTED in redact("refused remote-token-from-a-config-file", {})
    error = ModelError("echo: sk-ant-api03-zzzzzzzzzzzzzzzzzz", "auth")
    assert "sk-ant" not in str(error) and error.code == "auth"
    event = redact_event(agui.RunError(message="Bearer abcdefghijklmnop", code="x"))
    assert isinstance(event, agui.RunError) and event.message == f"Bearer {REDACTED}"
    kept = agui.TextMessageContent(message_id="m", delta="Bearer abcdefghijklmnop")
    assert redact_event(kept) is kept  # only errors are rewritten; the model's own words stay


def test_log_records_are_redacted_with_their_tracebacks(caplog):
    name = "solidtype_jupyter.tests.redact"
    install_log_redaction([name])
    logger = logging.getLogger(name)
    try:
        raise RuntimeError("provider said: sk-ant-api03-secretsecretsecret")
    except RuntimeError:
        logger.exception("call failed with %s", "Bearer abcdefghijklmnopqrst")
    assert "secretsecret" not in caplog.text and "abcdefghijklmnop" not in caplog.text
    assert caplog.text.count(REDACTED) == 3 and "RuntimeError" in caplog.text  # source line too

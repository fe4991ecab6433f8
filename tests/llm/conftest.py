"""Fixtures of the llm tests: the fake provider server and small helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from solidtype_jupyter.llm.retry import RetryPolicy

from .fake_llm_server import FakeLLMServer

# Fast backoff so retry tests take milliseconds.
FAST_RETRY = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server

"""Retrying a model stream that fails before it has produced anything.

The SDKs already retry a request whose response *starts* with 408/409/429/5xx (529 included) or
whose connection fails before the headers (``max_retries``, exponential backoff, ``retry-after``
honoured). They do not retry once the response has started: an ``overloaded_error`` event or a
dropped connection in the body surfaces as an exception while iterating. ``retrying_stream`` adds
that: it restarts the request, with backoff, as long as no event has been passed on yet. After the
first event a failure is final (retrying would repeat text the user has already seen).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from .types import ModelError, ModelEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total attempts of one turn, SDK-level retries not counted
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        """Backoff before attempt ``attempt + 1`` (attempt counts from 1), with 25% jitter."""
        base = min(self.initial_delay * 2.0 ** (attempt - 1), self.max_delay)
        return base * (1 - 0.25 * random.random())


async def retrying_stream(
    open_stream: Callable[[], AsyncIterator[ModelEvent]], policy: RetryPolicy, label: str
) -> AsyncIterator[ModelEvent]:
    attempt = 0
    while True:
        attempt += 1
        delivered = False
        stream = open_stream()
        try:
            async for event in stream:
                delivered = True
                yield event
            return
        except ModelError as exc:
            if delivered or not exc.retryable or attempt >= policy.attempts:
                raise
            delay = policy.delay(attempt)
            log.warning(
                "%s: %s (%s); retry %d/%d in %.2fs",
                label,
                exc,
                exc.code,
                attempt,
                policy.attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

"""The run's one-at-a-time registry keeps its lock while a cancelled case's tool still runs:
a worker thread cannot be stopped, and CAD work beside it is what the lock prevents."""

from __future__ import annotations

import asyncio
import threading
import time

from pydantic import BaseModel

from solidtype_jupyter.evals.runner import OneAtATime
from solidtype_jupyter.tools.registry import ToolContext, ToolRegistry, ToolSpec


class _NoArgs(BaseModel):
    pass


def test_a_cancelled_call_holds_the_lock_until_its_thread_ends() -> None:
    ended = threading.Event()

    def slow(_args: _NoArgs, _context: object) -> dict[str, object]:
        time.sleep(1.0)
        ended.set()
        return {}

    async def main() -> tuple[bool, bool]:
        registry = OneAtATime(
            ToolRegistry([ToolSpec("slow", "Sleep in a thread.", _NoArgs, slow)]),
            asyncio.Lock(),
        )
        call = asyncio.ensure_future(registry.execute("slow", {}, ToolContext(user_id="t")))
        await asyncio.sleep(0.2)
        call.cancel()  # what the case's time limit does
        await asyncio.gather(call, return_exceptions=True)
        return ended.is_set(), registry.lock.locked()

    thread_ended, still_locked = asyncio.run(main())
    assert thread_ended and not still_locked
    assert ended.is_set()

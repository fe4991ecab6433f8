"""Slow tools that only tests load into an agent (``AgentConfig.tool_modules``).

``slow_tool`` sleeps in a worker thread, as a CadQuery call that releases the interpreter
lock: the agent stays responsive. ``blocking_tool`` sleeps on the agent's own event loop, as
OCCT code that holds the interpreter lock: the agent answers nothing until it returns.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from solidtype_jupyter.tools.registry import APPROVAL_RULES, ToolRegistry, ToolSpec


class _Seconds(BaseModel):
    seconds: float = Field(ge=0, le=600)


def _slow(args: _Seconds, _context: object) -> dict[str, object]:
    time.sleep(args.seconds)
    return {"slept": args.seconds}


async def _blocking(args: _Seconds, _context: object) -> dict[str, object]:
    time.sleep(args.seconds)  # noqa: ASYNC251 (on purpose: blocks the agent's event loop)
    return {"slept": args.seconds}


def register(registry: ToolRegistry) -> None:
    for name in ("slow_tool", "blocking_tool"):
        APPROVAL_RULES[name] = "auto"  # in the agent's process only: no approval step
    registry.register(ToolSpec("slow_tool", "Sleep in a thread.", _Seconds, _slow))
    registry.register(ToolSpec("blocking_tool", "Block the agent's loop.", _Seconds, _blocking))

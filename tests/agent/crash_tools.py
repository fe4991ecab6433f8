"""Tools that only tests load into an agent (``AgentConfig.tool_modules``): one kills the
process it runs in (an OCCT segfault, as far as the server can tell)."""

from __future__ import annotations

import os
import signal

from pydantic import BaseModel

from solidtype_jupyter.tools.registry import APPROVAL_RULES, ToolRegistry, ToolSpec


class _NoArgs(BaseModel):
    pass


def _crash(_args: _NoArgs, _context: object) -> dict[str, object]:
    os.kill(os.getpid(), signal.SIGKILL)
    return {}  # never reached


def register(registry: ToolRegistry) -> None:
    APPROVAL_RULES["crash_kernel"] = "auto"  # in the agent's process only: no approval step
    registry.register(ToolSpec("crash_kernel", "Kill the agent's process.", _NoArgs, _crash))

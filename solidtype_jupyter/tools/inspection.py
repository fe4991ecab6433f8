"""Read-only tools the agent checks its own work with (measure, check_interference, section,
verify).
"""

from __future__ import annotations

from .registry import ToolSpec

INSPECTION_TOOLS: list[ToolSpec] = []

"""Editor tools built on planes: named datum planes, mirror and split.
"""

from __future__ import annotations

from .registry import ToolSpec

PLANE_TOOLS: list[ToolSpec] = []

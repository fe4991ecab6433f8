"""Editor tools for solids made along paths and between profiles (sweep, loft) and the sketch
entities they need (add_slot, add_spline).
"""

from __future__ import annotations

from .registry import ToolSpec

PATH_TOOLS: list[ToolSpec] = []

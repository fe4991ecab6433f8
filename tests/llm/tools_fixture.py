"""A small tool registry of our own, shaped like ``tools.registry.ToolRegistry``
(``definitions()``, ``approval_level(name)``, ``execute(name, args, context)``), for loop tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from solidtype_jupyter.llm import ToolDefinition, ToolResult

POSITIVE = {"type": "number", "exclusiveMinimum": 0}


class BoxShop:
    """Boxes with ids; ``make_box`` auto, ``add_hole`` notify, ``delete_box`` confirm,
    ``wait_forever`` auto (until ``release``), ``explode`` auto (raises)."""

    LEVELS: ClassVar[dict[str, str]] = {
        "make_box": "auto",
        "add_hole": "notify",
        "delete_box": "confirm",
        "wait_forever": "auto",
        "explode": "auto",
    }

    def __init__(self) -> None:
        self.boxes: dict[str, dict[str, float]] = {}
        self.calls: list[tuple[str, dict[str, Any], Any]] = []
        self.released = asyncio.Event()
        self.tool_started = asyncio.Event()

    def definitions(self) -> list[ToolDefinition]:
        return [
            ToolDefinition(
                "make_box",
                "Make a box (mm)",
                {
                    "type": "object",
                    "properties": {"width": POSITIVE, "height": POSITIVE, "depth": POSITIVE},
                    "required": ["width", "height", "depth"],
                    "additionalProperties": False,
                },
            ),
            ToolDefinition(
                "add_hole",
                "Drill a hole in a box",
                {
                    "type": "object",
                    "properties": {"box": {"type": "string"}, "diameter": POSITIVE},
                    "required": ["box", "diameter"],
                    "additionalProperties": False,
                },
            ),
            ToolDefinition(
                "delete_box",
                "Delete a box",
                {
                    "type": "object",
                    "properties": {"box": {"type": "string"}},
                    "required": ["box"],
                    "additionalProperties": False,
                },
            ),
            ToolDefinition("wait_forever", "Never returns", {"type": "object"}),
            ToolDefinition("explode", "Raises", {"type": "object"}),
            ToolDefinition("mystery", "A tool with no approval rule", {"type": "object"}),
        ]

    def approval_level(self, name: str) -> str:
        return self.LEVELS[name]  # KeyError for tools without a rule, like a registry may

    async def execute(self, name: str, args: Mapping[str, Any], context: Any) -> ToolResult:
        self.calls.append((name, dict(args), context))
        if name == "make_box":
            box_id = f"box{len(self.boxes) + 1}"
            self.boxes[box_id] = dict(args)
            return ToolResult(
                {"id": box_id, "volume": args["width"] * args["height"] * args["depth"]}
            )
        if name == "add_hole":
            if args["box"] not in self.boxes:
                return ToolResult({"error": f"no box {args['box']}"}, is_error=True)
            return ToolResult({"box": args["box"], "holes": 1})
        if name == "delete_box":
            existed = self.boxes.pop(args["box"], None) is not None
            return ToolResult({"deleted": existed})
        if name == "wait_forever":
            self.tool_started.set()
            await self.released.wait()
            return ToolResult("released")
        if name == "explode":
            raise RuntimeError("kaboom")
        return ToolResult({"ok": True})

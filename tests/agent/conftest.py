"""Agent runtime tests: agents in threads and in real kernels of a real jupyter_server.

Kernels inherit this process's environment; ``PYTHONPATH`` gets the repository root so an
agent kernel can import the test-only tool modules (``tests.agent.crash_tools``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
)

PLATE_SCRIPT = [
    {"text": "Sketching.", "tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]},
    {"tool_calls": [{"name": "add_rectangle",
                     "arguments": {"sketch_id": "sketch1", "width": 60, "height": 40}}]},
    {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch1", "distance": 8}}]},
    {"text": "A 60 x 40 x 8 plate."},
]  # fmt: skip


def write_script(path: Path, turns: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in turns), encoding="utf-8")
    return path


@pytest.fixture
def plate_script(tmp_path: Path) -> Path:
    return write_script(tmp_path / "plate.jsonl", PLATE_SCRIPT)

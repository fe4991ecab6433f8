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
from chat.conftest import HeaderIdentityProvider

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


#: Agents in their own kernels, started on demand (no warm pool) with a slow machine's patience.
KERNEL_AGENTS = {"default_runtime": "kernel", "agent_pool_size": 0, "agent_init_timeout": 120}


def server_config(database_url: str, model: str, **solidtype: Any) -> dict[str, Any]:
    """A jupyter_server config with the extension, users named by a request header, and
    ``SolidTypeApp`` settings on top of the database and the model."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"solidtype_jupyter": True},
            "identity_provider_class": HeaderIdentityProvider,
        },
        "SolidTypeApp": {"database_url": database_url, "model": model, **solidtype},
    }


@pytest.fixture
def script_path(tmp_path: Path) -> Path:
    """Where a test writes the turns of its scripted model (the server reads it per turn)."""
    return tmp_path / "turns.jsonl"


@pytest.fixture
def plate_script(tmp_path: Path) -> Path:
    return write_script(tmp_path / "plate.jsonl", PLATE_SCRIPT)

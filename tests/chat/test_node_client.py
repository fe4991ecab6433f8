"""The real ``@tanstack/ai-client`` (pinned in tests/chat/node) against our chat route.

Runs ``node --test`` on ``tests/chat/node/chat_client.test.mjs`` against a real jupyter server
with the scripted model. Skipped, with the reason printed, when Node or the pinned packages
cannot be installed (``npm ci`` in that folder; ``make pytest`` does it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import write_script
from .test_restart import TOKEN, Server

NODE_DIR = Path(__file__).parent / "node"


def _node_ready() -> str | None:
    """``None`` when ready, else why not."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not installed"
    if not (NODE_DIR / "node_modules" / "@tanstack" / "ai-client").exists():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            return f"`npm ci` failed in {NODE_DIR}: {done.stderr[-500:]}"
    return None


def test_tanstack_chat_client_approval_round_trip(tmp_path: Path, sqlite_url: str) -> None:
    reason = _node_ready()
    if reason is not None:
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    script = tmp_path / "turns.jsonl"
    write_script(
        script,
        {"text": ["Deleting ", "it."], "tool_calls": [
            {"name": "delete_feature", "arguments": {"feature_id": "extrude1"}}]},
        {"text": ["Done ", "after ", "your ", "answer."]},
    )  # fmt: skip
    server = Server(tmp_path, sqlite_url, script)
    server.start()
    try:
        code, session = server.call("POST", "solidtype/api/ai/sessions", {"context": "editor"})
        assert code == 201, session
        done = subprocess.run(
            ["node", "--test", "chat_client.test.mjs"],
            cwd=NODE_DIR,
            env={
                **os.environ,
                "CHAT_URL": server.url("solidtype/api/ai/chat"),
                "TOKEN": TOKEN,
                "THREAD_ID": session["id"],
            },
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        print(done.stdout[-6000:])
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        # The server's transcript agrees with the client's.
        code, hydrated = server.call("GET", f"solidtype/api/ai/session/{session['id']}")
        assert [m["role"] for m in hydrated["messages"]] == [
            "user",
            "assistant",
            "assistant",
        ]
        assert hydrated["interrupts"] is None and hydrated["activeRun"] is None
    finally:
        server.stop()

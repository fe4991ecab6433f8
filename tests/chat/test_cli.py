"""``solidtype-jupyter chat``: a real process on a SQLite file, the scripted model, stdin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from solidtype_jupyter.cad import CadDocument

from .conftest import write_script


def chat(tmp_path: Path, url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "solidtype_jupyter.cli", "chat", *args,
         "--model", f"scripted:{tmp_path / 'turns.jsonl'}", "--database-url", url,
         "--user", "alice"],
        input=stdin, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip


def test_approve_reject_and_continue_a_session(tmp_path: Path, sqlite_url: str) -> None:
    write_script(
        tmp_path / "turns.jsonl",
        {"text": "Deleting.", "tool_calls": [{"name": "delete_feature",
                                              "arguments": {"feature_id": "f1"}}]},
        {"text": "Done after your answer."},
        {"text": "Again.", "tool_calls": [{"name": "delete_feature",
                                           "arguments": {"feature_id": "f2"}}]},
        {"text": "Not deleted."},
    )  # fmt: skip
    first = chat(tmp_path, sqlite_url, "delete f1", "--context", "editor", stdin="y\n")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    match = re.fullmatch(r"session ([0-9a-f-]{36}) \(editor\)", lines[0])
    assert match, lines
    session_id = match.group(1)
    assert lines[1:4] == [
        "Deleting.",
        '[tool] delete_feature {"feature_id":"f1"}',
        'Approve delete_feature {"feature_id": "f1"}? [y/N] [error] {"error": {"code": '
        '"no_document", "message": "no CAD document is open; open or create one first"}}',
    ]
    assert lines[-1] == "Done after your answer."

    second = chat(tmp_path, sqlite_url, "delete f2", "--session", session_id, stdin="n\n")
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[0] == f"session {session_id} (editor)"
    assert "rejected" in second.stdout
    assert second.stdout.splitlines()[-1] == "Not deleted."
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as connection:
        title, count = connection.execute(
            sa.text("select title, message_count from ai_chat_sessions")
        ).one()
    engine.dispose()
    assert title == "delete f1"
    assert count == 8  # 2 user messages, 4 assistant messages, 2 tool results

    unknown = chat(tmp_path, sqlite_url, "hi", "--session", "8f5e78a2-a075-4d06-ba11-a238e624da83")
    assert unknown.returncode == 2 and "no session" in unknown.stderr


def test_document_option_builds_and_saves_the_part(tmp_path: Path, sqlite_url: str) -> None:
    write_script(
        tmp_path / "turns.jsonl",
        {"tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]},
        {"tool_calls": [{"name": "add_rectangle",
                         "arguments": {"sketch_id": "sketch1", "width": 20, "height": 10}}]},
        {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch1", "distance": 5}}]},
        {"text": "A 20 x 10 x 5 block."},
    )  # fmt: skip
    done = chat(tmp_path, sqlite_url, "a block", "--document", "parts/block.solid.json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "A 20 x 10 x 5 block."
    assert "[error]" not in done.stdout
    saved = CadDocument.load(tmp_path / "parts" / "block.solid.json")
    assert abs(saved.geometry()["volume"] - 1000) < 1e-6
    # The scripted model is a recording, and the terminal says so once, with how to connect
    # a model (on stderr: stdout stays the conversation).
    demo_lines = [line for line in done.stderr.splitlines() if "Recorded demo" in line]
    assert len(demo_lines) == 1 and "ANTHROPIC_API_KEY" in demo_lines[0], done.stderr
    assert "Recorded demo" not in done.stdout
    outside = chat(tmp_path, sqlite_url, "x", "--document", "../escape.solid.json")
    assert outside.returncode == 2 and "--document must be" in outside.stderr


def test_an_editor_chat_ends_with_the_terminals_way_to_the_script(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_script(
        tmp_path / "turns.jsonl",
        {"tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]},
        {"tool_calls": [{"name": "add_rectangle",
                         "arguments": {"sketch_id": "sketch1", "width": 20, "height": 10}}]},
        {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch1", "distance": 5}}]},
        {"text": "A 20 x 10 x 5 block."},
    )  # fmt: skip
    done = chat(tmp_path, sqlite_url, "a block", "--document", "parts/block.solid.json")
    assert done.returncode == 0, done.stderr
    # The terminal's own command, not the notebook's `chat.to_script()`.
    assert "to_script" not in done.stdout + done.stderr
    assert "`solidtype-jupyter export parts/block.solid.json`" in done.stderr, done.stderr

    def export(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "solidtype_jupyter.cli", "export", *args],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip

    script = export("parts/block.solid.json")
    assert script.returncode == 0, script.stderr
    # The script rebuilds the part with CadQuery alone.
    (tmp_path / "block.py").write_text(
        script.stdout + "\nprint(round(result.val().Volume(), 6))\n", encoding="utf-8"
    )
    rebuilt = subprocess.run(
        [sys.executable, "block.py"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.split()[-1] == "1000.0"
    step = export("parts/block.solid.json", "--format", "step")
    assert step.returncode == 0 and "parts/block.step" in step.stdout, step.stderr
    assert (tmp_path / "parts" / "block.step").read_text().startswith("ISO-10303-21")
    missing = export("parts/none.solid.json")
    assert missing.returncode == 2 and "cannot read none.solid.json" in missing.stderr


def test_without_a_model_the_terminal_is_told_what_to_set(tmp_path: Path, sqlite_url: str) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("ANTHROPIC_API_KEY", "SOLIDTYPE_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    }
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")  # no c.SolidTypeApp.model from a user
    done = subprocess.run(
        [sys.executable, "-m", "solidtype_jupyter.cli", "chat", "a plate",
         "--database-url", sqlite_url, "--user", "alice"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip
    # Nothing was done: a non-zero status, and advice for this terminal, not a server's.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "No chat model is configured" in done.stdout
    assert "this terminal's environment" in done.stdout and "--model" in done.stdout
    assert "Jupyter server" not in done.stdout and "restart" not in done.stdout

"""``%load_ext solidtype_jupyter``, ``%ai_chat`` options, ``%%ai_chat``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.widgets import Chat, Turn

from .conftest import QUICKSTART_VOLUME, Recorder


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--bogus", "unrecognized arguments: --bogus"),
        ("a.solid.json b.solid.json", "unrecognized arguments: b.solid.json"),
        ("--session 1234 --new", "either --session ID or --new"),
        ("--context nowhere", "invalid choice: 'nowhere'"),
        ("--model", "expected one argument"),
        ("--model gpt", "--model: model must be `provider:model`"),
        ("--model nobody:model", "--model: model must be `provider:model`"),
        ("--context dashboard part.solid.json", "needs --context editor"),
        ("--session 00000000-0000-0000-0000-000000000000", "no session"),
        ("--session not-a-uuid", "no session"),
        ("missing/dir/part.solid.json", "does not exist"),
        (".", "is a directory"),
    ],
)
def test_bad_options_give_a_usage_message(shell: Any, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        shell.run_line_magic("ai_chat", line)


def test_a_bad_option_in_a_cell_shows_no_traceback(shell: Any, capsys: Any) -> None:
    result = shell.run_cell("%ai_chat --session 1 --new")
    assert isinstance(result.error_in_exec, UsageError)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "UsageError" in text and "Traceback" not in text


def test_bad_document_file_is_a_usage_message(shell: Any, chat_env: Path) -> None:
    (chat_env / "broken.solid.json").write_text("{not json")
    with pytest.raises(UsageError, match="cannot open"):
        shell.run_line_magic("ai_chat", "broken.solid.json")


def test_help_documents_every_option(shell: Any) -> None:
    doc = shell.find_line_magic("ai_chat").__doc__
    for option in ("DOCUMENT", "--model M", "--session ID", "--new", "--context", "--viewer"):
        assert option in doc
    for word in ("scripted:quickstart", "editor", "dashboard", "%%ai_chat", "chat.send", "3d"):
        assert word in doc


def test_magic_returns_a_chat_and_shows_the_panel(shell: Any, recorder: Recorder) -> None:
    chat = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new")
    assert isinstance(chat, Chat)
    assert chat.model_label == "scripted:quickstart" and chat.context == "editor"
    assert chat.widget.session_id == chat.session_id
    assert recorder.kinds()[:2] == ["reset", "sessions"]
    # Re-running the cell continues the same session with the same model; --new does not.
    again = shell.run_line_magic("ai_chat", "--model scripted:quickstart")
    assert again.session_id == chat.session_id
    fresh = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new")
    assert fresh.session_id != chat.session_id
    resumed = shell.run_line_magic("ai_chat", f"--session {chat.session_id}")
    assert resumed.session_id == chat.session_id


def test_cell_magic_sends_the_cell_and_saves_the_document(shell: Any, chat_env: Path) -> None:
    turn = shell.run_cell_magic(
        "ai_chat",
        "part.solid.json --model scripted:quickstart --new",
        "a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets\n",
    )
    assert isinstance(turn, Turn) and turn.outcome == "finished"
    saved = CadDocument.load(chat_env / "part.solid.json")
    assert saved.geometry()["volume"] == pytest.approx(QUICKSTART_VOLUME, abs=0.01)
    # A second cell without options goes to the current chat; the demo has nothing recorded
    # for it and says so.
    turn = shell.run_cell_magic("ai_chat", "", "thanks\n")
    assert "recorded demo (scripted:quickstart), not a model" in turn.text
    with pytest.raises(UsageError, match="the cell is empty"):
        shell.run_cell_magic("ai_chat", "", "  \n")
    # Opening the same file again continues from it.
    chat = shell.run_line_magic("ai_chat", "part.solid.json --model scripted:quickstart --new")
    assert chat.document.geometry()["volume"] == pytest.approx(QUICKSTART_VOLUME, abs=0.01)


def test_dashboard_context_has_no_document(shell: Any) -> None:
    chat = shell.run_line_magic("ai_chat", "--context dashboard --model scripted:quickstart")
    assert chat.context == "dashboard" and chat.document is None
    assert chat.widget.show_viewer is False
    with pytest.raises(ValueError, match="no CAD document"):
        chat.to_script()


def test_tool_timeout_of_the_jupyter_config_applies(shell: Any, chat_env: Path) -> None:
    config_file = Path(os.environ["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json"
    config_file.write_text(json.dumps({"SolidTypeApp": {"tool_timeout": 7}}))
    chat = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new")
    assert chat.runtime.agent.bindings[chat.session_id].agent.config.tool_timeout == 7
    config_file.write_text(json.dumps({"SolidTypeApp": {"tool_timeout": 0}}))  # no limit
    chat = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new")
    assert chat.runtime.agent.bindings[chat.session_id].agent.config.tool_timeout is None


def test_approval_overrides_of_the_jupyter_config_apply(shell: Any, chat_env: Path) -> None:
    config_dir = Path(os.environ["JUPYTER_CONFIG_DIR"])
    config_file = config_dir / "jupyter_server_config.json"
    config_file.write_text(
        json.dumps({"SolidTypeApp": {"approval_overrides": {"create_sketch": "confirm"}}})
    )
    chat = shell.run_line_magic("ai_chat", "part.solid.json --model scripted:quickstart --new")
    turn = chat.send("a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets")
    assert turn.outcome == "approval"
    assert [i["toolName"] for i in turn.interrupts] == ["create_sketch"]
    config_file.write_text(
        json.dumps({"SolidTypeApp": {"approval_overrides": {"create_sketch": "maybe"}}})
    )
    with pytest.raises(UsageError, match="approval levels must be one of"):
        shell.run_line_magic("ai_chat", "--new")

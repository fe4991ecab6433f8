"""The widget's protocol: commands from the browser, messages to it, the packaged module."""

from __future__ import annotations

import re
from typing import Any

import pytest

from solidtype_jupyter.widgets import ChatWidget, CommandError, parse_command
from solidtype_jupyter.widgets.chat_widget import EVENTS_PER_MESSAGE, STATIC

from .conftest import Recorder


@pytest.mark.parametrize(
    "content",
    [
        {"cmd": "ready", "view": "v1"},
        {"cmd": "more", "view": "v1", "before": 100},
        {"cmd": "send", "text": "a plate"},
        {"cmd": "approve", "interruptId": "approval_c1", "toolCallId": "c1"},
        {"cmd": "approve", "interruptId": "approval_c1", "editedArgs": {"distance": 3}},
        {"cmd": "reject", "interruptId": "approval_c1"},
        {"cmd": "stop"},
        {"cmd": "retry"},
        {"cmd": "new"},
        {"cmd": "switch", "session": "0b0c"},
        {"cmd": "archive", "session": "0b0c"},
    ],
)
def test_every_command_parses(content: dict[str, Any]) -> None:
    command = parse_command(content)
    assert command.cmd == content["cmd"]


def test_approve_keeps_edited_arguments() -> None:
    command = parse_command(
        {"cmd": "approve", "interruptId": "approval_c1", "editedArgs": {"distance": 3}}
    )
    assert command.interrupt_id == "approval_c1"  # type: ignore[union-attr]
    assert command.edited_args == {"distance": 3}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("send", "JSON object"),
        ({"text": "hi"}, "JSON object"),
        ({"cmd": "launch"}, "invalid command 'launch'"),
        ({"cmd": "send", "text": ""}, "text"),
        ({"cmd": "send"}, "text"),
        ({"cmd": "send", "text": "hi", "user": "mallory"}, "user"),
        ({"cmd": "approve", "interruptId": "a", "editedArgs": [1, 2]}, "editedArgs"),
        ({"cmd": "more", "view": "v", "before": -1}, "before"),
    ],
)
def test_bad_commands_are_refused_with_the_reason(content: Any, reason: str) -> None:
    with pytest.raises(CommandError, match=re.escape(reason)):
        parse_command(content)


def test_a_bad_command_is_answered_not_raised(recorder: Recorder) -> None:
    handled: list[Any] = []
    widget = ChatWidget(handler=handled.append)
    widget._on_browser_message(widget, {"cmd": "send", "text": ""}, [])
    widget._on_browser_message(widget, {"cmd": "stop"}, [])
    assert [type(c).__name__ for c in handled] == ["Stop"]
    errors = recorder.of("error")
    assert len(errors) == 1 and "text" in errors[0]["message"]


def test_a_failing_handler_becomes_an_inline_error_with_retry(recorder: Recorder) -> None:
    def handler(command: Any) -> None:
        raise RuntimeError("database is gone")

    widget = ChatWidget(handler=handler)
    widget._on_browser_message(widget, {"cmd": "send", "text": "hi"}, [])
    [error] = recorder.of("error")
    assert error == {"kind": "error", "message": "RuntimeError: database is gone", "retry": True}


def test_events_go_in_bounded_batches(recorder: Recorder) -> None:
    widget = ChatWidget()
    events = [{"o": f"{i:020d}", "e": {"type": "TEXT_MESSAGE_CONTENT"}} for i in range(1201)]
    widget.post_events("s1", events)
    batches = recorder.of("events")
    assert [len(b["events"]) for b in batches] == [EVENTS_PER_MESSAGE, EVENTS_PER_MESSAGE, 201]
    assert [e for b in batches for e in b["events"]] == events
    assert {b["session"] for b in batches} == {"s1"}


def test_conversation_is_not_widget_state() -> None:
    # Only small settings are synced traits: the conversation travels as custom messages.
    synced = set(ChatWidget().keys) - {"_esm", "_css", "_anywidget_id"}
    own = {name for name in synced if not name.startswith("_") and name not in ("layout",)}
    assert own <= {"title", "placeholder", "show_viewer", "session_id", "tabbable", "tooltip"}


def test_static_output_carries_a_png_fallback() -> None:
    widget = ChatWidget()
    widget.fallback_png = lambda: b"\x89PNG fake"
    bundle = widget._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["image/png"] == "iVBORyBmYWtl"


def test_the_module_is_self_contained() -> None:
    js = (STATIC / "chat.js").read_text(encoding="utf-8")
    css = (STATIC / "chat.css").read_text(encoding="utf-8")
    # No imports at all (no CDN, no bundler), and the two hosts' entry points.
    assert not re.search(r"^\s*import[\s(]", js, re.MULTILINE)
    assert "import(" not in js and "https://" not in js.replace("https?:", "")
    assert "export function mountChat(" in js
    assert "export default {" in js and "render({ model, el })" in js
    # Model text is never parsed as HTML.
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", js)
    # Colours follow the JupyterLab theme.
    assert "var(--jp-layout-color1" in css and "var(--jp-ui-font-color1" in css

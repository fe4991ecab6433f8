"""The 3D viewer (jupyter-cadquery in the right panel): what it is sent, from the chat.

No browser here: the widget's synced ``shapes`` (the tessellated parts tree) is what the
browser would draw; tests/e2e shows it drawn in Chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.widgets.viewer import Selection, resolve
from solidtype_jupyter.widgets.viewer3d import MODEL_COLOR, ModelViewer3D

from .conftest import Recorder


def parts(viewer: ModelViewer3D) -> list[dict[str, Any]]:
    return list(viewer._viewer.widget.shapes["shapes"]["parts"])


def test_the_model_and_the_agents_selection_are_two_parts(plate: CadDocument) -> None:
    viewer = ModelViewer3D("SolidType: plate", "#9333ea")
    viewer.show(plate, resolve(plate, Selection("faces", (">Z",))))
    model, selected = parts(viewer)
    assert (model["name"], model["color"], model["subtype"]) == ("plate", MODEL_COLOR, "solid")
    assert (selected["name"], selected["color"]) == ("selected by the agent", "#9333ea")
    assert selected["subtype"] == "face"
    assert viewer._viewer.widget.title == "SolidType: plate"
    assert viewer._viewer.widget.anchor == "right"

    viewer.show(plate, resolve(plate, Selection("edges", ("|Z",))))
    assert parts(viewer)[1]["type"] == "edges"
    viewer.show(plate, [])  # no selection: the model alone
    assert [p["name"] for p in parts(viewer)] == ["plate"]
    assert viewer.shown == 3
    viewer.close()
    assert viewer._viewer is None


def test_the_chat_sends_each_model_to_the_3d_viewer(
    shell: Any, chat_env: Path, recorder: Recorder
) -> None:
    chat = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new --viewer 3d")
    assert chat.viewer == "3d" and chat.viewer3d is not None
    assert chat.widget.show_viewer is False  # the panel shows no picture then
    chat.send("a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets")
    recorder.wait_for(lambda: chat.viewer3d.shown > 0)
    assert not [m for m in recorder.of("view") if m.get("png")]
    names = [p["name"] for p in parts(chat.viewer3d)]
    assert names[0] == chat.document.name


def test_the_viewer_option(shell: Any, chat_env: Path, recorder: Recorder) -> None:
    png = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new --viewer png")
    assert png.viewer3d is None and png.widget.show_viewer is True
    none = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new --viewer none")
    assert none.viewer3d is None and none.widget.show_viewer is False
    default = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new")
    assert default.viewer == "3d"  # jupyter-cadquery is a dependency
    dashboard = shell.run_line_magic("ai_chat", "--context dashboard --model scripted:quickstart")
    assert dashboard.viewer == "none"  # nothing to show
    with pytest.raises(UsageError, match="invalid choice: 'vr'"):
        shell.run_line_magic("ai_chat", "--viewer vr")


def test_the_viewer_is_named_after_the_file(shell: Any, chat_env: Path) -> None:
    """A part written with ``CadDocument()`` keeps the name "Untitled" inside the file; its
    viewer tab names the file the user opened."""
    CadDocument().save(chat_env / "bracket.solid.json")
    chat = shell.run_line_magic(
        "ai_chat", "bracket.solid.json --model scripted:quickstart --new --viewer 3d"
    )
    assert chat.document.name == "Untitled"
    assert chat.viewer3d is not None and chat.viewer3d.title == "SolidType: bracket"
    unsaved = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new --viewer 3d")
    assert unsaved.viewer3d.title == "SolidType: Untitled"


class ControlComm:
    """The kernel's end of ipywidgets' ``jupyter.widget.control`` comm: what it sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, data: dict[str, Any], buffers: Any = None) -> None:
        self.sent.append(data)


def test_a_page_restoring_the_widgets_gets_the_chat_first_then_the_viewer(
    shell: Any, chat_env: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reloaded page (or a second tab) asks for every widget at once. The sidecar is left
    out of that batch: rendering its WebGL viewer there held the page for seconds, long
    enough for ipywidgets and anywidget to give up on the chat ("Error displaying widget:
    model not found"). The chat's panel, once back, gets the viewer again."""
    from ipywidgets import Widget

    chat = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new --viewer 3d")
    chat.send("a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets")
    viewer = chat.viewer3d
    recorder.wait_for(lambda: viewer.shown > 0)
    before = viewer._viewer
    viewer_ids = {before.widget.model_id, before.sidecar.model_id}

    comm = ControlComm()
    monkeypatch.setattr(Widget, "_control_comm", comm)
    Widget._handle_control_comm_msg({"content": {"data": {"method": "request_states"}}})
    (reply,) = comm.sent
    assert reply["method"] == "update_states"
    assert chat.widget.model_id in reply["states"]
    restored = {state["model_name"] for state in reply["states"].values()}
    assert not viewer_ids & set(reply["states"]), restored
    assert viewer._viewer is None

    # The restored panel asks for its history; the viewer opens again with the model.
    chat.widget._on_browser_message(chat.widget, {"cmd": "ready", "view": "reloaded"}, [])
    recorder.wait_for(lambda: any(m.get("view") == "reloaded" for m in recorder.of("reset")))
    reset = next(m for m in recorder.of("reset") if m.get("view") == "reloaded")
    assert reset["total"] > 0 and reset["messages"]  # the conversation comes back
    assert viewer._viewer is not None and viewer._viewer is not before
    recorder.wait_for(lambda: viewer.shown > 0)
    assert next(p["name"] for p in parts(viewer)) == chat.document.name


def test_a_viewer_that_cannot_close_does_not_stop_the_restore(
    shell: Any, chat_env: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restore hook wraps ipywidgets' own handler: if closing a viewer fails (a changed
    jupyter-cadquery or cad-viewer-widget), the page still gets every widget, the chat's
    included."""
    from ipywidgets import Widget

    chat = shell.run_line_magic("ai_chat", "--model scripted:quickstart --new --viewer 3d")
    chat.send("a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets")
    recorder.wait_for(lambda: chat.viewer3d.shown > 0)

    def broken(self: ModelViewer3D) -> None:
        raise ImportError("cannot import name 'drain_closed_viewers'")

    monkeypatch.setattr(ModelViewer3D, "suspend", broken)
    comm = ControlComm()
    monkeypatch.setattr(Widget, "_control_comm", comm)
    Widget._handle_control_comm_msg({"content": {"data": {"method": "request_states"}}})
    (reply,) = comm.sent
    assert reply["method"] == "update_states"
    assert chat.widget.model_id in reply["states"]

"""The JupyterLab side panel in a real headless Chromium: open it on a ``*.solid.json``
document (shown in the document viewer), chat, approve a tool call, reload the page in the
middle of an answer and see it resume with no duplicate text, archive the session.

Screenshots: test-artifacts/panel-*.png.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from solidtype_jupyter.cad import CadDocument

from .conftest import ARTIFACTS, Lab

TIMEOUT = 90_000  # ms
SLOW_WORDS = [f"word{i:02d} " for i in range(40)]
SCRIPT = [
    {
        "text": "I will make the plate thicker.",
        "tool_calls": [{"name": "set_parameter", "arguments": {"name": "thickness", "value": 12}}],
    },
    {"text": ["Done", ": the plate ", "is now 12 mm thick."]},
    {"text": [*SLOW_WORDS, "THE END."], "delay_ms": 120},
]


@pytest.fixture
def script_file(tmp_path: Path) -> Path:
    path = tmp_path / "panel.jsonl"
    path.write_text("".join(json.dumps(turn) + "\n" for turn in SCRIPT), encoding="utf-8")
    return path


@pytest.fixture
def lab_server_config(script_file: Path) -> dict[str, Any]:
    # The thread runtime: the agent runs in the server process (no agent kernel to start).
    return {"SolidTypeApp": {"model": f"scripted:{script_file}", "default_runtime": "thread"}}


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"panel-{name}.png"), full_page=False)


def api(lab: Lab, page: Any, path: str) -> Any:
    """A GET as the browser's user (its login cookie; a bare token is an anonymous user)."""
    response = page.request.get(f"{lab.url}solidtype/api/{path}")
    assert response.ok, response.text()
    return response.json()


def write_plate(path: Path) -> None:
    document = CadDocument("plate")
    document.set_parameter("thickness", 8)
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": "thickness"})
    document.save(path)


def test_side_panel_chat(lab: Lab, browser_page: Any) -> None:
    page = browser_page
    write_plate(lab.root / "plate.solid.json")

    # The document opens in the SolidType viewer (its 3D view: tests/e2e/test_view3d.py).
    page.goto(lab.open("plate.solid.json"))
    viewer = page.locator(".jp-SolidTypeDocumentView[data-state=shown]")
    viewer.wait_for(timeout=TIMEOUT)
    first_revision = viewer.locator(".jp-SolidTypeView3D").get_attribute("data-revision")
    page.locator(".jp-SolidTypeDocumentView button[data-view=top]").click()
    shot(page, "document-viewer")

    # The side panel, from its sidebar tab, starts an editor chat on that document.
    page.locator('li.lm-TabBar-tab[data-id="solidtype-chat-panel"]').click()
    panel = page.locator(".jp-SolidTypeChatPanel .st-chat")
    panel.wait_for(timeout=TIMEOUT)
    page.locator(".jp-SolidTypeChatPanel .st-chat-status-text", has_text="Ready").wait_for(
        timeout=TIMEOUT
    )
    # The first page arrived: the header names the server's model.
    panel.locator(".st-chat-model", has_text="scripted:").wait_for(timeout=TIMEOUT)
    sessions = api(lab, page, "ai/sessions")["sessions"]
    assert [s["context"] for s in sessions] == ["editor"] and sessions[0]["documentId"]

    # A message streams in, and the tool call waits for approval.
    box = panel.locator(".st-chat-input")
    box.focus()
    box.type("make it 12 mm thick")
    page.keyboard.press("Enter")
    approve = panel.locator(".st-chat-approve")
    approve.wait_for(timeout=TIMEOUT)
    assert "I will make the plate thicker." in panel.locator(".st-chat-log").inner_text()
    shot(page, "approval")
    approve.click()
    panel.locator(".st-chat-log", has_text="is now 12 mm thick.").wait_for(timeout=TIMEOUT)
    saved = CadDocument.load(lab.root / "plate.solid.json")
    assert saved.parameters["thickness"] == 12
    # The panel's 3D view of the model and the document viewer follow the change.
    page.wait_for_function(
        "(old) => { const views = [...document.querySelectorAll('.jp-SolidTypeView3D')];"
        " return views.length === 2 && views.every("
        "v => v.dataset.revision && v.dataset.revision !== old); }",
        arg=first_revision,
        timeout=TIMEOUT,
    )
    shot(page, "approved")

    # Reload during a slow answer: it goes on from the last offset, nothing twice.
    box.focus()
    box.type("tell me a long story")
    page.keyboard.press("Enter")
    panel.locator(".st-chat-log", has_text="word05").wait_for(timeout=TIMEOUT)
    page.reload()
    panel = page.locator(".jp-SolidTypeChatPanel .st-chat")
    panel.locator(".st-chat-log", has_text="THE END.").wait_for(timeout=TIMEOUT)
    text = panel.locator(".st-chat-log").inner_text()
    assert text.count("word00") == 1 and text.count("word39") == 1 and text.count("THE END.") == 1
    assert "".join(SLOW_WORDS).strip() in " ".join(text.split())
    shot(page, "resumed")

    # Archive the session from the session list: a fresh one replaces it.
    session_id = api(lab, page, "ai/sessions")["sessions"][0]["id"]
    panel.locator(".st-chat-icon-button[title=Sessions]").click()
    panel.locator(f'.st-chat-session[data-session-id="{session_id}"]').wait_for(timeout=TIMEOUT)
    shot(page, "sessions")
    panel.locator(
        f'.st-chat-session[data-session-id="{session_id}"] .st-chat-session-archive'
    ).click()
    page.wait_for_function(
        "(id) => !document.querySelector(`.st-chat-session[data-session-id='${id}']`)",
        arg=session_id,
        timeout=TIMEOUT,
    )
    assert api(lab, page, f"ai/sessions/{session_id}")["status"] == "archived"
    assert "THE END." not in panel.locator(".st-chat-log").inner_text()
    shot(page, "archived")
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors


def test_agent_is_a_collaborator(lab: Lab, browser_page: Any) -> None:
    """With jupyter-collaboration, a second user's JupyterLab lists the agent that works in
    the first user's chat among the collaborators, with its name and colour."""
    page = browser_page
    write_plate(lab.root / "plate.solid.json")
    page.goto(lab.open("plate.solid.json"))
    page.locator(".jp-SolidTypeDocumentView[data-state=shown]").wait_for(timeout=TIMEOUT)
    page.locator('li.lm-TabBar-tab[data-id="solidtype-chat-panel"]').click()
    panel = page.locator(".jp-SolidTypeChatPanel .st-chat")
    panel.locator(".st-chat-model", has_text="scripted:").wait_for(timeout=TIMEOUT)
    box = panel.locator(".st-chat-input")
    box.focus()
    box.type("make it 12 mm thick")
    page.keyboard.press("Enter")
    panel.locator(".st-chat-approve").wait_for(timeout=TIMEOUT)  # the agent is running

    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        second = other.new_page()
        second.goto(f"{lab.url}lab?token={lab.token}")
        second.locator(".jp-LabShell").wait_for(timeout=TIMEOUT)
        second.locator('.jp-SideBar.jp-mod-left li[title*="Collaboration"]').click()
        agent = second.locator(".jp-CollaboratorsList .jp-Collaborator", has_text="agent")
        agent.first.wait_for(timeout=TIMEOUT)
        name = agent.first.inner_text()
        icon = agent.first.locator(".jp-CollaboratorIcon")
        colour = icon.evaluate("(el) => getComputedStyle(el).backgroundColor")
        second.screenshot(path=str(ARTIFACTS / "panel-collaborators.png"))
        assert " agent " in name, name
        assert colour not in ("", "rgba(0, 0, 0, 0)"), colour
    finally:
        other.close()

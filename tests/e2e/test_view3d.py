"""The interactive 3D view (labextension/src/view3d.ts) in a real headless Chromium with WebGL
(SwiftShader): the ``*.solid.json`` viewer and the side panel of an editor chat draw the
model on a WebGL canvas, follow edits (another user's save, the agent's tool calls) with the
camera kept where the user left it, show the agent's faces in its colour, and a face the
user clicks is what ``get_current_selection`` returns to the agent.

Clicks, drags and typing are Playwright's real input; the page is only read (the view's
``data-*`` attributes, the canvas's pixels from screenshots). Screenshots:
test-artifacts/view3d-*.png.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from solidtype_jupyter.cad import CadDocument

from .conftest import ARTIFACTS, Lab
from .test_side_panel import api
from .test_side_panel_layout import set_panel_width, switch_theme

TIMEOUT = 90_000  # ms
DOC_VIEW = ".jp-SolidTypeDocumentView .jp-SolidTypeView3D"
PANEL_VIEW = ".jp-SolidTypeChatPanel .jp-SolidTypeView3D"
PANEL = ".jp-SolidTypeChatPanel .st-chat"
#: The model's yellow and the agent's pink (scene.ts MODEL_COLOR, AGENT_COLOR).
YELLOW = (0xE8, 0xB0, 0x24)
PINK = (0xFF, 0x14, 0x93)
BLUE = (0x1E, 0x88, 0xE5)

SCRIPT = [
    # 1: "make it 12 mm thick"
    {
        "text": "Making the plate 12 mm thick.",
        "tool_calls": [{"name": "set_parameter", "arguments": {"name": "thickness", "value": 12}}],
    },
    {"text": "Done: 12 mm."},
    # 2: "which faces point up?"
    {
        "text": "Looking for the top face.",
        "tool_calls": [{"name": "find_faces", "arguments": {"selector": ">Z"}}],
    },
    {"text": "The top face is highlighted."},
    # 3: "what did I pick?"
    {
        "text": "Reading your selection.",
        "tool_calls": [{"name": "get_current_selection", "arguments": {}}],
    },
    {"text": "You picked one face."},
]


@pytest.fixture
def lab_server_config(tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / "view3d.jsonl"
    script.write_text("".join(json.dumps(turn) + "\n" for turn in SCRIPT), encoding="utf-8")
    return {
        "SolidTypeApp": {
            "model": f"scripted:{script}",
            "default_runtime": "thread",
            # No approval card between the request and the change: the view is under test.
            "approval_overrides": {"set_parameter": "auto"},
        }
    }


def write_plate(path: Path, thickness: float = 8) -> None:
    document = CadDocument("plate")
    document.set_parameter("thickness", thickness)
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": "thickness"})
    document.save(path)


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"view3d-{name}.png"), full_page=False)


def canvas_pixels(page: Any, view: str) -> Any:
    """The canvas as drawn on screen (an RGB image)."""
    from PIL import Image

    png = page.locator(f"{view} canvas").screenshot()
    return Image.open(io.BytesIO(png)).convert("RGB")


def share_near(image: Any, colour: tuple[int, int, int], tolerance: int = 70) -> float:
    """The share of pixels whose colour is near ``colour`` (lit or shaded: a wide margin)."""
    pixels = np.asarray(image, dtype=np.int32)
    distance = np.abs(pixels - np.array(colour, dtype=np.int32)).sum(axis=2)
    return float((distance <= tolerance * 2).mean())


def changed_share(a: Any, b: Any) -> float:
    """The share of pixels that differ between two images of the same size."""
    if a.size != b.size:
        return 1.0
    diff = np.abs(np.asarray(a, dtype=np.int32) - np.asarray(b, dtype=np.int32)).sum(axis=2)
    return float((diff > 30).mean())


def view_data(page: Any, view: str) -> dict[str, str]:
    return dict(page.eval_on_selector(view, "(el) => Object.assign({}, el.dataset)"))


def wait_shown(page: Any, view: str) -> None:
    page.locator(f"{view}[data-state=shown][data-renderer=webgl] canvas").wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(300)  # a frame or two


def drag(page: Any, view: str, dx: float, dy: float) -> None:
    """Orbit: press in the canvas, move, release (the user's mouse)."""
    box = page.locator(f"{view} canvas").bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=10)
    page.mouse.up()


def test_document_viewer_draws_follows_edits_and_keeps_the_camera(
    lab: Lab, browser_page: Any
) -> None:
    page = browser_page
    write_plate(lab.root / "plate.solid.json")
    page.goto(lab.open("plate.solid.json"))
    wait_shown(page, DOC_VIEW)
    first = view_data(page, DOC_VIEW)
    assert first["faces"] == "6", first
    # It polls each second; an unchanged document answers 304 and nothing is drawn again.
    page.wait_for_timeout(2_500)
    assert view_data(page, DOC_VIEW)["models"] == first["models"] == "1"
    image = canvas_pixels(page, DOC_VIEW)
    assert share_near(image, YELLOW) > 0.03, "no model on the canvas"
    shot(page, "document-iso")

    # The user orbits: the camera moves, the picture changes.
    drag(page, DOC_VIEW, 80, 30)
    page.wait_for_timeout(300)
    orbited = view_data(page, DOC_VIEW)
    assert orbited["camera"] != first["camera"]
    before = canvas_pixels(page, DOC_VIEW)
    assert changed_share(image, before) > 0.01

    # Another user saves a thicker plate: the view follows (polling), the camera stays.
    write_plate(lab.root / "plate.solid.json", thickness=30)
    page.wait_for_function(
        "([sel, old]) => { const el = document.querySelector(sel);"
        " return el && el.dataset.revision && el.dataset.revision !== old; }",
        arg=[DOC_VIEW, orbited["revision"]],
        timeout=TIMEOUT,
    )
    page.wait_for_timeout(300)
    after_edit = view_data(page, DOC_VIEW)
    assert after_edit["camera"] == orbited["camera"], "the camera moved on an edit"
    after = canvas_pixels(page, DOC_VIEW)
    assert changed_share(before, after) > 0.01, "the view did not change with the model"
    shot(page, "document-edited")

    # Standard views and fit are buttons; the section plane cuts the model.
    page.locator(f"{DOC_VIEW} button[data-view=top]").click()
    page.wait_for_timeout(300)
    top = canvas_pixels(page, DOC_VIEW)
    assert changed_share(after, top) > 0.01

    # A click on an edge picks the edge: the first dark pixel from the top of the canvas,
    # down its middle, is the plate's outline seen from above.
    column = top.size[0] // 2
    dark = next(y for y in range(top.size[1]) if sum(top.getpixel((column, y))) < 3 * 90)
    canvas = page.locator(f"{DOC_VIEW} canvas").bounding_box()
    scale = canvas["width"] / top.size[0]
    page.mouse.click(canvas["x"] + column * scale, canvas["y"] + (dark + 0.5) * scale)
    page.wait_for_function(
        "(sel) => document.querySelector(sel).dataset.selection.startsWith('edge:')",
        arg=DOC_VIEW,
        timeout=10_000,
    )
    picked = page.locator(f"{DOC_VIEW} .jp-SolidTypeView3D-picked")
    assert picked.inner_text().startswith("1 edge picked")
    page.wait_for_timeout(300)
    assert share_near(canvas_pixels(page, DOC_VIEW), BLUE) > 0.001, "no user colour"
    shot(page, "document-edge-picked")
    picked.locator("button").click()
    assert view_data(page, DOC_VIEW)["selection"] == ""
    page.locator(f"{DOC_VIEW} button[data-view=iso]").click()
    page.locator(f"{DOC_VIEW} select.jp-SolidTypeView3D-section").select_option("z")
    page.wait_for_timeout(300)
    # The cut solid shows its cap: a grey face on the plane (scene.ts THEMES cap).
    assert share_near(canvas_pixels(page, DOC_VIEW), (0x8D, 0x8D, 0x8D), 15) > 0.03
    shot(page, "document-section")
    page.locator(f"{DOC_VIEW} select.jp-SolidTypeView3D-section").select_option("")

    # The dark theme: the view follows JupyterLab's.
    switch_theme(page, "JupyterLab Dark")
    assert view_data(page, DOC_VIEW)["theme"] == "dark"
    dark = canvas_pixels(page, DOC_VIEW)
    assert share_near(dark, YELLOW) > 0.03
    shot(page, "document-dark")
    # Closing the viewer lets its view go (its WebGL context given back) without an error.
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="plate.solid.json")
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    page.locator(DOC_VIEW).wait_for(state="detached", timeout=10_000)
    messages = "\n".join(page.console_messages)
    assert "pageerror" not in messages, messages


def send(page: Any, text: str) -> None:
    box = page.locator(f"{PANEL} .st-chat-input")
    box.click()
    box.type(text)
    page.keyboard.press("Enter")


def wait_ready(page: Any) -> None:
    page.locator(f"{PANEL} .st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)


def wait_revision_change(page: Any, view: str, old: str) -> None:
    page.wait_for_function(
        "([sel, old]) => { const el = document.querySelector(sel);"
        " return el && el.dataset.revision && el.dataset.revision !== old; }",
        arg=[view, old],
        timeout=TIMEOUT,
    )
    page.wait_for_timeout(300)


def tool_result(lab: Lab, page: Any, session: str, name: str) -> dict[str, Any]:
    """The content of the last result of tool ``name`` in the session's transcript."""
    messages = api(lab, page, f"ai/session/{session}?view=transcript")["messages"]
    names = {
        call["id"]: call["function"]["name"]
        for message in messages
        for call in message.get("toolCalls") or []
    }
    results = [
        m["content"]
        for m in messages
        if m["role"] == "tool" and names.get(m.get("toolCallId", "")) == name
    ]
    assert results, f"no {name} result in {messages}"
    return dict(json.loads(results[-1]))


def test_side_panel_view_follows_the_agent_and_sends_the_users_pick(
    lab: Lab, browser_page: Any
) -> None:
    page = browser_page
    write_plate(lab.root / "plate.solid.json")
    page.goto(lab.open("plate.solid.json"))
    wait_shown(page, DOC_VIEW)

    # The side panel of an editor chat on the document: its 3D view draws the model.
    page.locator('li.lm-TabBar-tab[data-id="solidtype-chat-panel"]').click()
    page.locator(PANEL).wait_for(timeout=TIMEOUT)
    wait_ready(page)
    wait_shown(page, PANEL_VIEW)
    assert share_near(canvas_pixels(page, PANEL_VIEW), YELLOW) > 0.03, "no model in the panel"
    session = api(lab, page, "ai/sessions")["sessions"][0]["id"]
    shot(page, "panel")

    # The user orbits, then asks for a change: the view follows, the camera stays.
    drag(page, PANEL_VIEW, 40, 20)
    page.wait_for_timeout(300)
    orbited = view_data(page, PANEL_VIEW)
    before = canvas_pixels(page, PANEL_VIEW)
    # Watch (only read) whether the view says it is updating while the change comes in.
    page.evaluate(
        "(sel) => { const el = document.querySelector(sel); window.__stUpdating = [];"
        " new MutationObserver(() => window.__stUpdating.push("
        "el.querySelector('.jp-SolidTypeView3D-status').textContent))"
        ".observe(el, {subtree: true, childList: true, characterData: true}); }",
        PANEL_VIEW,
    )
    send(page, "make it 12 mm thick")
    page.locator(f"{PANEL} .st-chat-log", has_text="Done: 12 mm.").wait_for(timeout=TIMEOUT)
    wait_revision_change(page, PANEL_VIEW, orbited["revision"])
    edited = view_data(page, PANEL_VIEW)
    assert edited["camera"] == orbited["camera"], "the camera moved on the agent's edit"
    assert changed_share(before, canvas_pixels(page, PANEL_VIEW)) > 0.005
    assert "updating…" in page.evaluate("() => window.__stUpdating"), "no 'updating…'"
    assert page.locator(f"{PANEL_VIEW} .jp-SolidTypeView3D-status").inner_text() == ""
    update_ms = int(edited.get("updateMs", "-1"))
    assert 0 <= update_ms < 30_000, edited
    (ARTIFACTS / "view3d-update-ms.txt").write_text(f"{update_ms}\n")
    wait_ready(page)

    # The agent looks for the top face: it shows in the agent's colour.
    send(page, "which face points up?")
    page.locator(f"{PANEL} .st-chat-log", has_text="The top face is highlighted.").wait_for(
        timeout=TIMEOUT
    )
    page.wait_for_function(
        "(sel) => document.querySelector(sel).dataset.agentSelection === '1'",
        arg=PANEL_VIEW,
        timeout=TIMEOUT,
    )
    # The document's own viewer shows it too (the selection belongs to the document).
    assert view_data(page, DOC_VIEW)["agentSelection"] == "1"
    page.locator(f"{PANEL_VIEW} button[data-view=iso]").click()
    page.wait_for_timeout(400)
    assert share_near(canvas_pixels(page, PANEL_VIEW), PINK) > 0.02, "no agent colour"
    shot(page, "panel-agent-selection")
    wait_ready(page)

    # The user clicks the top face (the middle of the iso view): it shows in the user's
    # colour, and the agent's get_current_selection returns that face.
    canvas = page.locator(f"{PANEL_VIEW} canvas").bounding_box()
    page.mouse.click(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    page.wait_for_function(
        "(sel) => document.querySelector(sel).dataset.selection.startsWith('face:')",
        arg=PANEL_VIEW,
        timeout=10_000,
    )
    page.locator(f"{PANEL_VIEW} .jp-SolidTypeView3D-picked", has_text="1 face picked").wait_for(
        timeout=10_000
    )
    assert view_data(page, DOC_VIEW)["selection"].startswith("face:")  # shared, as above
    page.wait_for_timeout(300)
    assert share_near(canvas_pixels(page, PANEL_VIEW), BLUE) > 0.02, "no user colour"
    shot(page, "panel-user-selection")
    send(page, "what did I pick?")
    page.locator(f"{PANEL} .st-chat-log", has_text="You picked one face.").wait_for(timeout=TIMEOUT)
    picked = tool_result(lab, page, session, "get_current_selection")
    assert picked["count"] == 1, picked
    face = picked["items"][0]["resolved"]
    assert face["type"] == "PLANE", picked
    assert [round(v, 3) for v in face["normal"]] == [0, 0, 1], picked
    assert round(face["center"][2], 3) == 12, picked  # the top face of the 12 mm plate
    messages = "\n".join(page.console_messages)
    assert "pageerror" not in messages, messages


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_side_panel_view_at_several_widths(lab: Lab, browser_page: Any, theme: str) -> None:
    page = browser_page
    write_plate(lab.root / "plate.solid.json")
    page.goto(lab.open("plate.solid.json"))
    wait_shown(page, DOC_VIEW)
    page.locator('li.lm-TabBar-tab[data-id="solidtype-chat-panel"]').click()
    wait_ready(page)
    wait_shown(page, PANEL_VIEW)
    if theme != "JupyterLab Light":
        switch_theme(page, theme)
    name = "light" if theme == "JupyterLab Light" else "dark"
    for width in (300, 420, 640, None):
        reached = set_panel_width(page, width)
        page.wait_for_timeout(400)
        view = page.locator(PANEL_VIEW).bounding_box()
        panel = page.locator(".jp-SolidTypeChatPanel").bounding_box()
        assert view["width"] <= panel["width"] + 0.5
        toolbar = page.locator(f"{PANEL_VIEW} .jp-SolidTypeView3D-toolbar").bounding_box()
        assert toolbar["x"] + toolbar["width"] <= panel["x"] + panel["width"] + 0.5
        assert share_near(canvas_pixels(page, PANEL_VIEW), YELLOW) > 0.02, (width, theme)
        shot(page, f"panel-{name}-{round(reached)}px")
    # The handle between the view and the chat shares the height (a real drag).
    handle = page.locator(".jp-SolidTypeChatPanel-handle").bounding_box()
    height = page.locator(PANEL_VIEW).bounding_box()["height"]
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 120, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    taller = page.locator(PANEL_VIEW).bounding_box()["height"]
    assert taller > height + 100, (height, taller)
    assert share_near(canvas_pixels(page, PANEL_VIEW), YELLOW) > 0.02
    shot(page, f"panel-{name}-taller")
    # Folded: the chat takes the room; unfolded again: the model is back.
    page.locator(f"{PANEL_VIEW} .jp-SolidTypeView3D-collapse").click()
    page.locator(f"{PANEL_VIEW}[data-collapsed]").wait_for(timeout=5_000)
    shot(page, f"panel-{name}-folded")
    page.locator(f"{PANEL_VIEW} .jp-SolidTypeView3D-collapse").click()
    wait_shown(page, PANEL_VIEW)


def test_without_webgl_the_viewer_says_so_and_shows_the_servers_picture(lab: Lab) -> None:
    # A browser of its own, with WebGL turned off (the browser_page fixture's has it).
    from playwright.sync_api import sync_playwright

    from .conftest import CHROMIUM, CHROMIUM_ARGS

    write_plate(lab.root / "plate.solid.json")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, "--disable-3d-apis"]
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(lab.open("plate.solid.json"))
            view = page.locator(f"{DOC_VIEW}[data-renderer=picture][data-state=shown]")
            view.wait_for(timeout=TIMEOUT)
            notice = page.locator(f"{DOC_VIEW} .jp-SolidTypeView3D-notice")
            assert "WebGL is not available" in notice.inner_text()
            picture = page.locator(f"{DOC_VIEW} img.jp-SolidTypeView3D-picture[data-view=iso]")
            picture.wait_for(timeout=TIMEOUT)
            page.locator(f"{DOC_VIEW} button[data-view=top]").click()
            page.locator(f"{DOC_VIEW} img.jp-SolidTypeView3D-picture[data-view=top]").wait_for(
                timeout=TIMEOUT
            )
            assert page.locator(f"{DOC_VIEW} canvas").count() == 0
            page.screenshot(path=str(ARTIFACTS / "view3d-no-webgl.png"))
        finally:
            browser.close()

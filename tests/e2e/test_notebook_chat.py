"""``%ai_chat`` in JupyterLab in a real headless Chromium: streamed text, tool cards, an
approval, the model updating in the picture viewer and in the 3D viewer, the session list,
the dark theme.

Screenshots: test-artifacts/e2e-*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .conftest import ARTIFACTS, REPO, Lab

SCRIPT = Path(__file__).resolve().parent / "plate_e2e.jsonl"
TIMEOUT = 90_000  # ms; the first cell imports CadQuery


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
             "outputs": [], "source": source}
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(notebook), encoding="utf-8")


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}.png"), full_page=False)


def run_cell(page: Any, index: int) -> None:
    """Run one cell and wait until the kernel has taken it (its prompt shows a number)."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        """(i) => {
            const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
            const prompt = cell && cell.querySelector('.jp-InputPrompt');
            return prompt && /\\[(\\d+|\\*)\\]/.test(prompt.textContent);
        }""",
        arg=index,
        timeout=TIMEOUT,
    )


def test_chat_panel_in_jupyterlab(lab: Lab, browser_page: Any) -> None:
    page = browser_page
    write_notebook(
        lab.root / "chat.ipynb",
        [
            f"%load_ext solidtype_jupyter\n"
            f"chat = %ai_chat --model scripted:{SCRIPT} --new --viewer png\nchat",
            "print('volume', chat.document.geometry()['volume'])",
        ],
    )
    page.goto(lab.open("chat.ipynb"))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=TIMEOUT)
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=TIMEOUT)
    run_cell(page, 0)
    chat = page.locator(".st-chat")
    chat.wait_for(timeout=TIMEOUT)
    page.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)

    # Send with Enter; Shift+Enter makes a new line instead.
    box = chat.locator(".st-chat-input")
    box.click()
    box.type("a 60x40 plate")
    page.keyboard.press("Shift+Enter")
    box.type("8 mm thick, then 10")
    assert box.input_value() == "a 60x40 plate\n8 mm thick, then 10"
    page.keyboard.press("Enter")
    assert box.input_value() == ""
    user = chat.locator(".st-chat-message--user", has_text="then 10")
    user.wait_for(timeout=30_000)
    assert user.inner_text().endswith("a 60x40 plate\n8 mm thick, then 10")

    # The first answer streams: seen while still incomplete, then complete.
    first = chat.locator(".st-chat-message--assistant .st-chat-text").first
    page.wait_for_function(
        """() => {
            const el = document.querySelector('.st-chat-message--assistant .st-chat-text');
            return el && el.textContent.length > 0 && !el.textContent.includes('sketch:');
        }""",
        timeout=30_000,
    )
    assert chat.locator(".st-chat-stop").is_visible()  # Stop is offered while it runs
    assert not chat.locator(".st-chat-more").is_visible()  # nothing earlier to load
    shot(page, "1-streaming")
    first.locator("strong", has_text="8 mm").wait_for(timeout=30_000)  # markdown rendered
    page.wait_for_function(
        """() => document.querySelector('.st-chat-message--assistant .st-chat-text')
            .textContent.endsWith('First the sketch:')""",
        timeout=30_000,
    )

    # Tool cards with figures, then the approval prompt.
    approval = chat.locator(".st-chat-approval")
    approval.wait_for(timeout=60_000)
    for name in ("create_sketch", "add_rectangle", "extrude"):
        card = chat.locator(f'.st-chat-tool[data-tool-name="{name}"]')
        assert card.get_attribute("data-state") == "done", name
    extrude = chat.locator('.st-chat-tool[data-tool-name="extrude"] .st-chat-tool-summary')
    assert "volume 19200" in extrude.inner_text()
    assert '"distance": 10' in approval.locator("textarea").input_value()
    assert "approval" in chat.locator(".st-chat-status-text").inner_text().lower()
    viewer = chat.locator("img.st-chat-viewer-image")
    viewer.wait_for(timeout=60_000)
    before = viewer.get_attribute("data-revision")
    shot(page, "2-approval")

    approval.locator("button", has_text="Approve").click()
    modified = chat.locator('.st-chat-tool[data-tool-name="modify_feature"]')
    page.wait_for_function(
        """() => document.querySelector(
            '.st-chat-tool[data-tool-name="modify_feature"]')?.dataset.state === 'done'""",
        timeout=60_000,
    )
    assert modified.locator(".st-chat-approval").count() == 0
    chat.locator(".st-chat-thumbnail").wait_for(timeout=60_000)  # render_view's picture
    chat.locator(".st-chat-text", has_text="Done: the plate is").wait_for(timeout=60_000)
    page.wait_for_function(
        """(before) => {
            const img = document.querySelector('img.st-chat-viewer-image');
            return img && img.dataset.revision && img.dataset.revision !== before;
        }""",
        arg=before,
        timeout=60_000,
    )
    assert "10 mm" in chat.locator(".st-chat-viewer-caption").inner_text()
    page.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=30_000)
    assert not chat.locator(".st-chat-stop").is_visible()
    page.wait_for_timeout(300)
    gap = chat.locator(".st-chat-messages").evaluate(
        "el => el.scrollHeight - el.scrollTop - el.clientHeight"
    )
    assert gap < 5, f"the conversation is not scrolled to its end ({gap} px left)"
    shot(page, "3-approved")

    # The kernel's document is the approved one.
    run_cell(page, 1)
    stdout = page.locator('[data-mime-type="application/vnd.jupyter.stdout"]')
    stdout.filter(has_text="volume 24000.0").wait_for(timeout=60_000)

    # The session list: titled by the first message, with its message count.
    chat.locator(".st-chat-icon-button[aria-label='Toggle sessions']").click()
    session = chat.locator(".st-chat-session--active")
    session.wait_for(timeout=10_000)
    assert session.locator(".st-chat-session-title").inner_text().startswith("a 60x40 plate")
    assert "msgs" in session.locator(".st-chat-session-count").inner_text()
    shot(page, "4-sessions")

    # Dark theme: the panel follows JupyterLab's theme variables.
    page.keyboard.press("Control+Shift+c")
    page.keyboard.type("JupyterLab Dark")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.wait_for_timeout(500)
    background = chat.evaluate("el => getComputedStyle(el).backgroundColor")
    red, green, blue = (int(v) for v in background[background.index("(") + 1 : -1].split(",")[:3])
    assert (red + green + blue) / 3 < 100, background
    shot(page, "5-dark")

    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors


def canvas_png(page: Any, canvas: Any) -> bytes:
    page.wait_for_timeout(500)  # let three.js finish the frame
    return bytes(canvas.screenshot())


def test_3d_viewer_follows_the_chat(lab: Lab, browser_page: Any) -> None:
    """The default viewer: jupyter-cadquery's 3D viewer in the right panel shows the model
    after each change (WebGL through SwiftShader), with the camera kept."""
    page = browser_page
    page.set_viewport_size({"width": 1600, "height": 1000})
    write_notebook(
        lab.root / "chat3d.ipynb",
        [f"%load_ext solidtype_jupyter\nchat = %ai_chat --model scripted:{SCRIPT} --new\nchat"],
    )
    page.goto(lab.open("chat3d.ipynb"))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=TIMEOUT)
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=TIMEOUT)
    run_cell(page, 0)
    chat = page.locator(".st-chat")
    page.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    assert not chat.locator(".st-chat-viewer").is_visible()  # no picture: the 3D viewer

    box = chat.locator(".st-chat-input")
    box.focus()
    box.type("a 60x40 plate, 8 mm thick, then 10")
    page.keyboard.press("Enter")
    approval = chat.locator(".st-chat-approval")
    approval.wait_for(timeout=60_000)

    # The sidecar, titled after the document, with a WebGL canvas showing the 8 mm plate.
    page.locator(".lm-TabBar-tab", has_text="SolidType: Untitled").wait_for(timeout=60_000)
    canvas = page.locator("#jp-right-stack canvas").first
    canvas.wait_for(timeout=60_000)
    box_size = canvas.bounding_box()
    assert box_size is not None and box_size["width"] >= 400, box_size
    before = canvas_png(page, canvas)
    shot(page, "3d-1-plate")

    approval.locator("button", has_text="Approve").click()
    chat.locator(".st-chat-text", has_text="Done: the plate is").wait_for(timeout=60_000)
    deadline = 40
    after = canvas_png(page, canvas)
    while after == before and deadline > 0:
        after = canvas_png(page, canvas)
        deadline -= 1
    assert after != before, "the 3D viewer did not show the approved change"
    assert canvas.bounding_box() == box_size  # updated in place: same sidecar, same canvas
    shot(page, "3d-2-approved")
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors


QUICKSTART = REPO / "notebooks" / "01-quickstart.ipynb"


def run_all(page: Any) -> None:
    """Run > Run All Cells, then wait until every code cell has run again (a prompt
    number above any before, none queued or running)."""
    prompts = ".jp-Notebook .jp-CodeCell .jp-InputArea .jp-InputPrompt"
    numbers = [
        int(n) for t in page.locator(prompts).all_text_contents() for n in re.findall(r"\d+", t)
    ]
    page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook has the focus
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
    page.wait_for_function(
        r"""([selector, before]) => {
            const prompts = [...document.querySelectorAll(selector)];
            return prompts.length > 0 && prompts.every((p) => {
                const n = /\[(\d+)\]/.exec(p.textContent);
                return n && Number(n[1]) > before;
            });
        }""",
        arg=[prompts, max(numbers, default=0)],
        timeout=240_000,
    )


def features_on_disk(lab: Lab) -> list[str]:
    data = json.loads((lab.root / "plate.solid.json").read_text(encoding="utf-8"))
    return [f"{f['id']}:{f['type']}" for f in data["features"]]


def chat_history(page: Any) -> str:
    return str(page.locator(".st-chat .st-chat-log").text_content())


def assert_no_broken_widget(page: Any) -> None:
    text = page.locator(".jp-Notebook").text_content() or ""  # cells off screen too
    assert "Error displaying widget" not in text, text[-2000:]
    assert (
        page.locator('.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    )
    assert "[object Object]" not in chat_history(page)


def test_the_quickstart_survives_a_reload_a_second_tab_and_a_second_run(
    lab: Lab, browser_page: Any
) -> None:
    """What a newcomer does: open the quickstart, Run All, type in the panel, reload, open
    the notebook in a second tab, Run All again (issue 18 #4, #5, #6)."""
    page = browser_page
    page.set_viewport_size({"width": 1600, "height": 1000})
    (lab.root / QUICKSTART.name).write_bytes(QUICKSTART.read_bytes())
    page.goto(lab.open(QUICKSTART.name))
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=TIMEOUT)
    run_all(page)
    chat = page.locator(".st-chat")
    page.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    page.locator("#jp-right-stack canvas").first.wait_for(timeout=60_000)  # the 3D viewer
    first_run = features_on_disk(lab)
    assert [f.split(":")[1] for f in first_run] == ["sketch", "extrude", "fillet", "hole"]
    assert_no_broken_widget(page)  # and no stderr box (VTK rendered the cell's picture)
    shot(page, "newcomer-1-run-all")

    box = chat.locator(".st-chat-input")
    box.click()
    box.type("How thick is the plate?")
    page.keyboard.press("Enter")
    chat.locator(".st-chat-message--user", has_text="How thick is the plate?").wait_for(
        timeout=30_000
    )
    page.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=60_000)
    answered = chat.locator(".st-chat-message--assistant").count()
    shot(page, "newcomer-2-typed")

    # Save, as JupyterLab does by itself every two minutes, then reload the page.
    page.keyboard.press("Control+s")
    page.locator(".jp-Notebook").click()  # out of the chat's text box
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1_000)
    page.reload()
    chat.wait_for(timeout=TIMEOUT)
    chat.locator(".st-chat-message--user", has_text="How thick is the plate?").wait_for(
        timeout=30_000
    )
    history = chat_history(page)
    assert "A 60x40x8 mm plate with four 5 mm corner holes" in history  # the cell's send
    assert chat.locator(".st-chat-message--assistant").count() == answered
    page.locator("#jp-right-stack canvas").first.wait_for(timeout=60_000)  # viewer back
    assert_no_broken_widget(page)
    chat.scroll_into_view_if_needed()
    shot(page, "newcomer-3-reloaded")

    # The same notebook in a second tab, while the first stays open.
    second = page.context.new_page()
    second.set_viewport_size({"width": 1600, "height": 1000})
    second.goto(lab.open(QUICKSTART.name))
    other = second.locator(".st-chat")
    other.locator(".st-chat-message--user", has_text="How thick is the plate?").wait_for(
        timeout=TIMEOUT
    )
    assert "A 60x40x8 mm plate" in chat_history(second)
    second.locator("#jp-right-stack canvas").first.wait_for(timeout=60_000)
    assert_no_broken_widget(second)
    other.scroll_into_view_if_needed()
    shot(second, "newcomer-4-second-tab")
    # The first tab still has its chat, and the viewer the second tab reopened.
    assert "How thick is the plate?" in chat_history(page)
    # Back to the first tab, as a person would: a hidden tab draws no WebGL frames.
    page.bring_to_front()
    page.locator("#jp-right-stack canvas").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1_000)
    shot(page, "newcomer-4b-first-tab")
    second.close()

    # Run All again in the same kernel: the same part, not a second copy of its features.
    run_all(page)
    page.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    assert features_on_disk(lab) == first_run
    assert_no_broken_widget(page)
    chat.scroll_into_view_if_needed()
    shot(page, "newcomer-5-second-run")
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors

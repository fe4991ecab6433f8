"""The side panel as a newcomer meets it, in headless Chromium with real pointer clicks and
typing: header, conversation, status line and input never overlap at panel widths from
280 px to (almost) the whole window, in the light and dark themes; the user's message is on
screen at once after Enter, the status says what happens until the first token; tool cards
read as a person reads them; text around tool calls keeps its paragraphs; new chats with
and without a CAD document in front.

With an agent kernel (``default_runtime = kernel``): the feedback while the kernel starts,
and the times from Enter to the message on screen and to the first streamed token with a
cold and a warm agent (written to test-artifacts/chat-latency.json; BENCHMARKS.md).

Screenshots: test-artifacts/layout-*.png and latency-*.png.
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import pytest

from solidtype_jupyter.cad import CadDocument

from .conftest import ARTIFACTS, Lab
from .test_notebook_chat import run_cell, write_notebook
from .test_side_panel import api

TIMEOUT = 90_000  # ms
PANEL = ".jp-SolidTypeChatPanel .st-chat"
REQUEST = "a 60 x 40 x 8 mm plate with rounded corners and four holes"
TIMES = "\N{MULTIPLICATION SIGN}"
MINUS = "\N{MINUS SIGN}"
STORY = [f"word{i:02d} " for i in range(30)]
SCRIPT = [
    {
        "prompt": REQUEST,
        "text": "I'll sketch the plate outline, extrude it, round the edges. First the sketch:",
        "tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}],
    },
    {
        "text": f"Now the 60 {TIMES} 40 mm outline.",
        "tool_calls": [
            {
                "name": "add_rectangle",
                "arguments": {"sketch_id": "sketch1", "width": 60, "height": 40},
            }
        ],
    },
    {
        "text": "Extrude it **8 mm**.",
        "tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch1", "distance": 8}}],
    },
    {
        "text": "Round the vertical edges.",
        "tool_calls": [{"name": "fillet", "arguments": {"edges": ["|Z"], "radius": 3}}],
    },
    {
        "text": [
            f"Done: a 60 {TIMES} 40 {TIMES} 8 mm plate with 3 mm fillets.\n\n",
            "The same part as a CadQuery script:\n\n```python\n",
            "import cadquery as cq\n",
            "plate = cq.Workplane('XY').rect(60, 40).extrude(8)\n",
            "plate = plate.edges('|Z').fillet(3)\n```\n\n",
            "| parameter | value |\n|---|---|\n| thickness | 8 mm |\n| fillet | 3 mm |\n\n",
            "Ask for holes, a chamfer, or an export next.",
        ]
    },
]


def write_script(path: Path, turns: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(turn) + "\n" for turn in turns), encoding="utf-8")
    return path


@pytest.fixture
def lab_server_config(tmp_path: Path) -> dict[str, Any]:
    script = write_script(tmp_path / "layout.jsonl", SCRIPT)
    return {"SolidTypeApp": {"model": f"scripted:{script}", "default_runtime": "thread"}}


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def open_document(page: Any, lab: Lab, name: str) -> None:
    CadDocument(name.split(".")[0]).save(lab.root / name)
    page.goto(lab.open(name))
    # A new document is not an error: the viewer says what to do.
    empty = page.locator(".jp-SolidTypeDocumentView[data-state=empty]")
    empty.wait_for(timeout=TIMEOUT)
    assert "describe a part" in empty.inner_text()


def open_panel(page: Any) -> Any:
    page.locator('li.lm-TabBar-tab[data-id="solidtype-chat-panel"]').click()
    panel = page.locator(PANEL)
    panel.locator(".st-chat-model", has_text="scripted: ").wait_for(timeout=TIMEOUT)
    panel.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    return panel


# --- timing (observed in the page; the keys and clicks are Playwright's real input) --------

WATCH = """(panel) => {
  const root = document.querySelector(panel);
  const state = {enter: null, message: null, token: null, statuses: []};
  window.__stWatch = state;
  const input = root.querySelector('.st-chat-input');
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && state.enter === null) {
      state.enter = performance.now();
      state.text = input.value.trim();
      state.assistants = root.querySelectorAll('.st-chat-message--assistant').length;
    }
  }, {capture: true});
  const status = root.querySelector('.st-chat-status-text');
  const check = () => {
    if (state.enter === null) return;
    const now = performance.now();
    const text = status.textContent;
    if (state.statuses[state.statuses.length - 1] !== text) state.statuses.push(text);
    if (state.message === null) {
      const users = [...root.querySelectorAll('.st-chat-message--user .st-chat-text')];
      if (users.some((el) => el.textContent === state.text && el.offsetParent !== null)) {
        state.message = now - state.enter;
      }
    }
    if (state.token === null) {
      const answers = root.querySelectorAll('.st-chat-message--assistant .st-chat-text');
      const fresh = [...answers].slice(state.assistants);
      if (fresh.some((el) => el.textContent.length > 0)) state.token = now - state.enter;
    }
  };
  new MutationObserver(check).observe(root, {subtree: true, childList: true, characterData: true});
}"""


def send_watched(page: Any, panel: Any, text: str) -> None:
    page.evaluate(WATCH, PANEL)
    box = panel.locator(".st-chat-input")
    box.click()
    box.type(text)
    page.keyboard.press("Enter")


def watched(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("() => window.__stWatch"))


def phases(statuses: list[str]) -> list[str]:
    """The statuses shown, once each ("Starting the agent… 3 s" counts as its phase)."""
    out: list[str] = []
    for status in statuses:
        phase = re.sub(r" \d+ s$", "", status)
        if phase not in out:
            out.append(phase)
    return out


# --- layout ----------------------------------------------------------------------------------


def boxes(page: Any, root: str = PANEL) -> dict[str, Any]:
    """Bounding boxes of the panel's parts, and what is on top at the ☰ button's centre."""
    return dict(
        page.evaluate(
            """(panel) => {
              const root = document.querySelector(panel);
              const box = (sel) => {
                const el = sel === ':scope' ? root : root.querySelector(sel);
                if (!el || el.offsetParent === null) return null;
                const r = el.getBoundingClientRect();
                return {x: r.left, y: r.top, right: r.right, bottom: r.bottom,
                        width: r.width, height: r.height};
              };
              const toggle = root.querySelector('.st-chat-icon-button[title=Sessions]');
              const t = toggle.getBoundingClientRect();
              const top = document.elementFromPoint(t.left + t.width / 2, t.top + t.height / 2);
              const title = root.querySelector('.st-chat-title');
              return {
                panel: box(':scope'), header: box('.st-chat-header'),
                log: box('.st-chat-conversation'), status: box('.st-chat-statusbar'),
                input: box('.st-chat-composer'), sessions: box('.st-chat-sessions'),
                viewer: box('.st-chat-viewer'), demo: box('.st-chat-demo'),
                toggleOnTop: toggle === top || toggle.contains(top),
                titleClipped: title.scrollWidth > title.clientWidth + 1,
                title: title.textContent,
              };
            }""",
            root,
        )
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    width = min(a["right"], b["right"]) - max(a["x"], b["x"])
    height = min(a["bottom"], b["bottom"]) - max(a["y"], b["y"])
    return max(0.0, width) * max(0.0, height)


def assert_layout(page: Any, where: str, root: str = PANEL) -> dict[str, Any]:
    found = boxes(page, root)
    parts = ["header", "sessions", "viewer", "demo", "log", "status", "input"]
    shown = {name: found[name] for name in parts if found[name] is not None}
    for name in ("header", "log", "status", "input"):
        assert name in shown, f"{where}: the {name} is not visible: {found}"
    for i, first in enumerate(parts):
        for second in parts[i + 1 :]:
            if first in shown and second in shown:
                area = overlap(shown[first], shown[second])
                assert area < 1, f"{where}: {first} and {second} overlap ({area:.0f} px²): {found}"
    panel = found["panel"]
    for name, box in shown.items():
        inside = (
            box["x"] >= panel["x"] - 0.5
            and box["right"] <= panel["right"] + 0.5
            and box["y"] >= panel["y"] - 0.5
            and box["bottom"] <= panel["bottom"] + 0.5
        )
        assert inside, f"{where}: the {name} leaves the panel: {box} not in {panel}"
    assert shown["log"]["height"] >= 60, f"{where}: no room left for the conversation: {found}"
    assert found["toggleOnTop"], f"{where}: something covers the ☰ button: {found}"
    assert not found["titleClipped"], f"{where}: the title is clipped: {found['title']!r}"
    return found


def right_handle(page: Any) -> Any:
    """The split handle between the main area and the right sidebar's panel."""
    index = page.evaluate(
        """() => {
          const stack = document.querySelector('#jp-right-stack').getBoundingClientRect();
          const handles = [...document.querySelectorAll(
            '#jp-main-split-panel > .lm-SplitPanel-handle')];
          let best = -1, distance = Infinity;
          handles.forEach((h, i) => {
            const r = h.getBoundingClientRect();
            if (r.width === 0 || h.classList.contains('lm-mod-hidden')) return;
            const d = Math.abs(r.right - stack.left);
            if (d < distance) { best = i; distance = d; }
          });
          return best;
        }"""
    )
    assert index >= 0, "no split handle next to the right sidebar"
    return page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").nth(index)


def set_panel_width(page: Any, width: int | None) -> float:
    """Drag the split handle with the mouse so the panel is ``width`` px wide (``None``: as
    wide as the window allows); the width reached."""
    handle = right_handle(page)
    box = handle.bounding_box()
    stack = page.locator("#jp-right-stack").bounding_box()
    right = stack["x"] + stack["width"]
    target = 60 if width is None else right - width
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(target, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    panel = page.locator(PANEL).bounding_box()
    return float(panel["width"])


def switch_theme(page: Any, theme: str) -> None:
    """The command palette, as a user opens it (focus out of the chat's input first)."""
    page.locator("#jp-main-statusbar").click()
    page.keyboard.press("Control+Shift+c")
    page.keyboard.type(theme)
    page.keyboard.press("Enter")
    light = "true" if theme == "JupyterLab Light" else "false"
    page.wait_for_function(
        f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=30_000
    )
    page.wait_for_timeout(500)


def test_side_panel_layout_and_feedback(lab: Lab, browser_page: Any) -> None:
    page = browser_page
    open_document(page, lab, "part.solid.json")
    panel = open_panel(page)

    # An empty chat says what to try; an example fills the input, it does not send.
    empty = panel.locator(".st-chat-empty")
    empty.wait_for(timeout=TIMEOUT)
    assert "Describe a part" in empty.inner_text()
    shot(page, "layout-1-empty")
    panel.locator(".st-chat-example").first.click()
    assert "plate" in panel.locator(".st-chat-input").input_value()
    panel.locator(".st-chat-input").fill("")

    # The message is on screen at once; the status says what happens.
    send_watched(page, panel, REQUEST)
    page.wait_for_function("() => window.__stWatch.message !== null", timeout=5_000)
    shot(page, "layout-2-sent")
    panel.locator(".st-chat-text", has_text="chamfer").wait_for(timeout=TIMEOUT)
    panel.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    timing = watched(page)
    assert timing["message"] <= 300, f"the message took {timing['message']:.0f} ms to show"
    assert timing["statuses"][0] != "Ready", timing["statuses"]
    assert any(
        s.startswith(("Sending", "Starting the agent", "Thinking")) for s in timing["statuses"]
    )
    shot(page, "layout-3-answered")

    # Paragraphs: each text segment between tool calls is its own block.
    texts = panel.locator(".st-chat-message--assistant .st-chat-text").all_inner_texts()
    assert texts[0].endswith("First the sketch:"), texts
    assert texts[1] == f"Now the 60 {TIMES} 40 mm outline.", texts
    log_text = panel.locator(".st-chat-log").inner_text()
    for bad in ("unknown tool", "[object Object]", "revision "):
        assert bad not in log_text, f"{bad!r} in the conversation"

    # Tool cards: what a person reads, the rest folded.
    extrude = panel.locator('.st-chat-tool[data-tool-name="extrude"] .st-chat-tool-summary')
    line = extrude.inner_text()
    assert f"60 {TIMES} 40 {TIMES} 8 mm" in line and "volume 19200 mm³" in line, line
    assert "6 faces" in line and "valid" in line, line
    assert not re.search(r"[0-9a-f]{16}", line), line
    fillet = panel.locator('.st-chat-tool[data-tool-name="fillet"] .st-chat-tool-summary')
    assert f"({MINUS}61.8)" in fillet.inner_text(), fillet.inner_text()
    details = panel.locator('.st-chat-tool[data-tool-name="extrude"] details.st-chat-tool-figures')
    assert details.get_attribute("open") is None
    extrude.click()
    assert details.locator("th", has_text="revision").is_visible()
    assert details.locator("th", has_text="volume (mm³)").is_visible()
    sketch = panel.locator('.st-chat-tool[data-tool-name="add_rectangle"] .st-chat-tool-summary')
    assert "sketch1: 1 entity, 1 closed profile" in sketch.inner_text()
    # Code blocks come with a copy button; tables are tables.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel.locator(".st-chat-code-wrap .st-chat-copy").click()
    panel.locator(".st-chat-copy", has_text="Copied").wait_for(timeout=5_000)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("import cadquery as cq\n") and copied.endswith("fillet(3)"), copied
    cells = panel.locator(".st-chat-md-table td").all_inner_texts()
    assert cells == ["thickness", "8 mm", "fillet", "3 mm"], cells

    # Scrolled up, a button brings the reader back to the latest message.
    conversation = panel.locator(".st-chat-messages")
    conversation.hover()
    page.mouse.wheel(0, -3000)
    latest = panel.locator(".st-chat-latest")
    latest.wait_for(state="visible", timeout=5_000)
    shot(page, "layout-4-scrolled-up")
    latest.click()
    latest.wait_for(state="hidden", timeout=5_000)

    # Every width, both themes: nothing overlaps, the ☰ button takes real clicks, the
    # session list does not cover the input.
    reached: dict[str, float] = {}
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        if theme != "JupyterLab Light":
            switch_theme(page, theme)
        for width in (280, 400, 700, None):
            name = f"{'dark' if 'Dark' in theme else 'light'}-{width or 'full'}"
            reached[name] = set_panel_width(page, width)
            if width is not None:
                assert abs(reached[name] - width) <= 12, (name, reached[name])
            else:
                assert reached[name] >= 1000, reached[name]
            assert_layout(page, name)
            shot(page, f"layout-5-{name}")
            panel.locator(".st-chat-icon-button[title=Sessions]").click()
            panel.locator(".st-chat-sessions").wait_for(timeout=5_000)
            assert_layout(page, f"{name} with the session list")
            box = panel.locator(".st-chat-input")
            box.click()  # not covered: Playwright checks the click lands on it
            box.type("x")
            box.fill("")
            shot(page, f"layout-6-{name}-sessions")
            panel.locator(".st-chat-icon-button[title=Sessions]").click()
            panel.locator(".st-chat-sessions").wait_for(state="hidden", timeout=5_000)
    (ARTIFACTS / "layout-widths.json").write_text(json.dumps(reached, indent=2))

    # A new chat with the CAD document in front is an editor chat on it ...
    set_panel_width(page, 400)
    panel.locator(".st-chat-icon-button[title=Sessions]").click()
    panel.locator(".st-chat-sessions .st-chat-icon-button[title='New chat']").click()
    panel.locator(".st-chat-empty", has_text="Describe a part").wait_for(timeout=TIMEOUT)
    sessions = api(lab, page, "ai/sessions")["sessions"]
    assert [s["context"] for s in sessions] == ["editor", "editor"], sessions
    shot(page, "layout-7-new-editor-chat")

    # ... and without one, a dashboard chat that says so.
    page.locator(".lm-TabBar-tab", has_text="part.solid.json").locator(
        ".lm-TabBar-tabCloseIcon"
    ).click()
    page.locator(".lm-TabBar-tab", has_text="part.solid.json").wait_for(
        state="detached", timeout=TIMEOUT
    )
    if not panel.locator(".st-chat-sessions").is_visible():
        panel.locator(".st-chat-icon-button[title=Sessions]").click()
    panel.locator(".st-chat-sessions .st-chat-icon-button[title='New chat']").click()
    panel.locator(".st-chat-empty", has_text="Ask about your CAD work").wait_for(timeout=TIMEOUT)
    contexts = sorted(s["context"] for s in api(lab, page, "ai/sessions")["sessions"])
    assert contexts == ["dashboard", "editor", "editor"], contexts
    assert_layout(page, "dashboard chat")
    shot(page, "layout-8-new-dashboard-chat")
    # The editor demo asked where its tools are missing: an answer, no failed tool cards.
    box = panel.locator(".st-chat-input")
    box.click()
    box.type(REQUEST)
    page.keyboard.press("Enter")
    panel.locator(".st-chat-message--assistant").first.wait_for(timeout=TIMEOUT)
    panel.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    log_text = panel.locator(".st-chat-log").inner_text()
    for bad in ("unknown tool", "[object Object]"):
        assert bad not in log_text, f"{bad!r} in the dashboard chat: {log_text}"
    assert_layout(page, "dashboard chat answered")
    shot(page, "layout-9-dashboard-answer")
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors


class TestAgentKernel:
    """Editor chats whose agent runs in a kernel: nothing is silent while it starts."""

    @pytest.fixture
    def lab_server_config(self, tmp_path: Path) -> dict[str, Any]:
        turns = [
            {"text": "Hello from the agent kernel."},
            {"text": "A second answer from the same agent."},
            {"text": [*STORY, "THE END."], "delay_ms": 150},
            {"text": [*STORY, "NEVER SHOWN."], "delay_ms": 300},
        ]
        script = write_script(tmp_path / "kernel.jsonl", turns)
        return {
            "SolidTypeApp": {
                "model": f"scripted:{script}",
                "default_runtime": "kernel",
                "agent_pool_size": 0,  # every agent starts a kernel: the cold case
                "agent_init_timeout": 300,
            }
        }

    def test_feedback_and_latency(self, lab: Lab, browser_page: Any) -> None:
        page = browser_page
        open_document(page, lab, "part.solid.json")
        panel = open_panel(page)
        set_panel_width(page, 400)
        results: dict[str, Any] = {}

        # Cold: the first message starts the session's agent kernel.
        send_watched(page, panel, "hello")
        page.wait_for_function("() => window.__stWatch.message !== null", timeout=5_000)
        panel.locator(".st-chat-status-text", has_text="Starting the agent").wait_for(
            timeout=10_000
        )
        shot(page, "latency-1-starting")
        # With the time since Send once a second has gone by.
        panel.locator(".st-chat-status-text", has_text=re.compile(r"agent… \d+ s")).wait_for(
            timeout=10_000
        )
        # The session list counts the message while the agent starts (it read "0 msgs").
        panel.locator(".st-chat-icon-button[title=Sessions]").click()
        count = panel.locator(".st-chat-session--active .st-chat-session-count")
        count.filter(has_text="1 msg").wait_for(timeout=10_000)
        shot(page, "latency-1-starting-sessions")
        panel.locator(".st-chat-icon-button[title=Sessions]").click()
        panel.locator(".st-chat-text", has_text="Hello from the agent kernel.").wait_for(
            timeout=300_000
        )
        panel.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
        results["cold"] = watched(page)
        shot(page, "latency-2-cold-answered")

        # Warm: the same session's agent is running.
        send_watched(page, panel, "again")
        panel.locator(".st-chat-text", has_text="A second answer").wait_for(timeout=TIMEOUT)
        panel.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
        results["warm"] = watched(page)
        for case, timing in results.items():
            assert timing["message"] <= 300, (case, timing)
            assert timing["token"] is not None, (case, timing)
        assert any(s.startswith("Starting the agent") for s in results["cold"]["statuses"])
        assert results["warm"]["token"] < results["cold"]["token"], results

        # Reload during an answer: it goes on where it was, nothing twice.
        box = panel.locator(".st-chat-input")
        box.click()
        box.type("a long one")
        page.keyboard.press("Enter")
        panel.locator(".st-chat-log", has_text="word03").wait_for(timeout=TIMEOUT)
        page.reload()
        panel = page.locator(PANEL)
        panel.locator(".st-chat-log", has_text="THE END.").wait_for(timeout=TIMEOUT)
        text = panel.locator(".st-chat-log").inner_text()
        assert text.count("word00") == 1 and text.count("THE END.") == 1, text
        shot(page, "latency-3-resumed")

        # Esc in the input stops an answer (the key the tooltip names).
        panel.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
        answers = panel.locator(".st-chat-message--assistant .st-chat-text")
        before = answers.count()
        box = panel.locator(".st-chat-input")
        box.click()
        box.type("and another")
        page.keyboard.press("Enter")
        # The new answer's word02: the last answer's text matched the one before, which has
        # it too, so Esc could go before the run had begun and stop nothing.
        answers.nth(before).filter(has_text="word02").wait_for(timeout=TIMEOUT)
        box.press("Escape")
        panel.locator(".st-chat-status-text", has_text="Stopped").wait_for(timeout=TIMEOUT)
        assert "NEVER SHOWN." not in panel.locator(".st-chat-log").inner_text()

        record = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, {platform.platform()}",
            "cases": {
                case: {
                    "enter_to_message_ms": round(t["message"], 1),
                    "enter_to_first_token_ms": round(t["token"], 1),
                    "statuses": phases(t["statuses"]),
                }
                for case, t in results.items()
            },
        }
        (ARTIFACTS / "chat-latency.json").write_text(json.dumps(record, indent=2))
        print(json.dumps(record, indent=2))
        errors = [m for m in page.console_messages if m.startswith("pageerror")]
        assert not errors, errors


def test_notebook_panel_in_a_narrow_window(lab: Lab, browser_page: Any, tmp_path: Path) -> None:
    """The same chat UI in a notebook output a narrow window leaves ~450 px to: the picture
    stacks above the conversation (it was three squeezed columns, the picture hidden only
    by the window's width), and nothing overlaps."""
    page = browser_page
    page.set_viewport_size({"width": 760, "height": 900})
    script = write_script(tmp_path / "notebook.jsonl", SCRIPT)
    write_notebook(
        lab.root / "narrow.ipynb",
        [f"%load_ext solidtype_jupyter\n%ai_chat --model scripted:{script} --new --viewer png"],
    )
    page.goto(lab.open("narrow.ipynb"))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=TIMEOUT)
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=TIMEOUT)
    run_cell(page, 0)
    chat = page.locator(".jp-Notebook .st-chat")
    chat.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    width = chat.bounding_box()["width"]
    assert width < 640, width
    box = chat.locator(".st-chat-input")
    box.click()
    box.type(REQUEST)
    page.keyboard.press("Enter")
    chat.locator(".st-chat-text", has_text="chamfer").wait_for(timeout=TIMEOUT)
    chat.locator("img.st-chat-viewer-image").wait_for(timeout=TIMEOUT)
    chat.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=TIMEOUT)
    found = assert_layout(page, f"notebook at {width:.0f} px", ".jp-Notebook .st-chat")
    assert found["viewer"] is not None and found["viewer"]["bottom"] <= found["log"]["y"] + 1
    shot(page, "layout-10-notebook-narrow")
    chat.locator(".st-chat-icon-button[title=Sessions]").click()
    chat.locator(".st-chat-sessions").wait_for(timeout=5_000)
    assert_layout(page, "notebook with the session list", ".jp-Notebook .st-chat")
    shot(page, "layout-11-notebook-narrow-sessions")

"""Fixtures for the notebook chat: an IPython shell with the extension, a recorded widget.

The chat runs for real: the kernel-side ``ChatRuntime`` on a real database (SQLite file or a
fresh PostgreSQL database), the ``ChatService``, the tool registry and CadQuery. Only the model
is scripted (``scripted:`` files), and the browser is replaced by recording what the widget
sends (the browser side is covered by tests/e2e).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from solidtype_jupyter.cad import CadDocument, Extrude, Rectangle, Sketch
from solidtype_jupyter.widgets import ChatWidget
from solidtype_jupyter.widgets.runtime import close_runtimes

HERE = Path(__file__).resolve().parent
APPROVAL_SCRIPT = HERE / "plate_approval.jsonl"
#: Volume of the quickstart plate: 60 x 40 x 8 minus four 3 mm fillet corners and four
#: 5 mm through holes (computed in closed form in tests/cad; here as CadQuery builds it).
QUICKSTART_VOLUME = 18509.876


class Recorder:
    """Every custom message every ChatWidget sends, in order."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def kinds(self) -> list[str]:
        return [m["kind"] for m in self.messages]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["kind"] == kind]

    def events(self) -> list[dict[str, Any]]:
        return [item for m in self.of("events") for item in m["events"]]

    def wait_for(self, test: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not test():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; messages: {self.kinds()}")
            time.sleep(0.02)

    def size(self) -> int:
        return sum(len(json.dumps(m)) for m in self.messages)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorded = Recorder()

    def send(self: ChatWidget, content: dict[str, Any], buffers: Any = None) -> None:
        recorded.messages.append(content)

    monkeypatch.setattr(ChatWidget, "send", send)
    return recorded


@pytest.fixture
def chat_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No model configured, no Jupyter config of the developer's, a fresh working folder."""
    for name in ("SOLIDTYPE_MODEL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "jupyter-config"
    config.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config))
    monkeypatch.setenv("SOLIDTYPE_USER", "notebook-user")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    close_runtimes()


@pytest.fixture
def shell(chat_env: Path) -> Any:
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()  # the process's one test shell (started on first use)
    if "solidtype_jupyter" not in ip.extension_manager.loaded:
        ip.run_line_magic("load_ext", "solidtype_jupyter")
    return ip


@pytest.fixture
def plate() -> CadDocument:
    """A 60 x 40 x 8 plate: a sketch and an extrude."""
    document = CadDocument("plate")
    document.add_feature(
        Sketch(id="sketch1", plane="XY", entities=[Rectangle(width=60, height=40)])
    )
    document.add_feature(Extrude(id="extrude1", sketch="sketch1", distance=8))
    return document

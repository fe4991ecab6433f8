"""A notebook using ``%ai_chat`` runs top to bottom in a real kernel (nbclient, no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import QUICKSTART_VOLUME

CELLS = [
    "%load_ext solidtype_jupyter",
    "chat = %ai_chat --model scripted:quickstart --new\nchat",
    "turn = chat.send('a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets')\nturn",
    "import json\nprint(json.dumps({'volume': chat.document.geometry()['volume'],\n"
    "    'outcome': turn.outcome, 'session': chat.session_id,\n"
    "    'messages': len(chat.messages), 'valid': chat.shape.val().isValid()}))",
    "exec(chat.to_script())\nprint(round(result.val().Volume(), 3))",
]


def test_notebook_runs_headless(
    chat_env: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOLIDTYPE_DATABASE_URL", sqlite_url)  # the kernel inherits it
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(chat_env)}},
    )
    client.execute()

    outputs = [cell.outputs for cell in notebook.cells]
    # The panel is a widget view; nbconvert-style readers also get text.
    panel = outputs[1][0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in panel
    # The turn shows its text and a PNG of the model.
    turn = outputs[2][0]["data"]
    assert "<Turn finished: 6 tool call(s)>" in turn["text/plain"]
    assert turn["image/png"]
    figures = json.loads(outputs[3][0]["text"])
    assert figures["outcome"] == "finished" and figures["valid"] is True
    assert figures["volume"] == pytest.approx(QUICKSTART_VOLUME, abs=0.01)
    assert figures["messages"] == 14
    assert float(outputs[4][0]["text"]) == pytest.approx(QUICKSTART_VOLUME, abs=0.01)

"""Every demo notebook runs headless from top to bottom without an API key.

The notebooks check their own results (``assert`` cells: the plate's size, the parameter
change, undo, archived sessions), so a run without an error cell is a real pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def demo_client(notebook, tmp_path, monkeypatch) -> NotebookClient:
    """A client for a demo notebook as a newcomer runs it: no model configured, a fresh
    database, and a scratch directory (the notebooks write their documents there)."""
    for name in ("ANTHROPIC_API_KEY", "SOLIDTYPE_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOLIDTYPE_DATABASE_URL", f"sqlite:///{tmp_path / 'nb.db'}")
    return NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_headless(path, tmp_path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    demo_client(notebook, tmp_path, monkeypatch).execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert not errors


#: Appended to a demo: the feature lists of the documents in its folder and of `chat`.
MODEL_PROBE = """\
import json as _json
from pathlib import Path as _Path

from solidtype_jupyter.cad import CadDocument as _CadDocument

_models = {p.name: _CadDocument.load(p).to_dict()["features"] for p in _Path().glob("*.solid.json")}
if getattr(globals().get("chat"), "document", None) is not None:
    _models["chat.document"] = chat.document.to_dict()["features"]
print(_json.dumps(_models, sort_keys=True))
"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_run_all_twice_gives_the_same_model(path, tmp_path, monkeypatch):
    """Run All, then Run All again in the same kernel: the demo builds the same documents
    (a re-run must not add its features to the last run's document)."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(MODEL_PROBE))
    client = demo_client(notebook, tmp_path, monkeypatch)
    models = []
    with client.setup_kernel():
        for _run in range(2):
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)  # raises on an error output
            models.append(json.loads(notebook.cells[-1].outputs[-1]["text"]))
    first, second = models
    assert second == first, (
        f"{path.name} run twice in one kernel changed the model: first run "
        f"{ {k: [f['id'] for f in v] for k, v in first.items()} }, second run "
        f"{ {k: [f['id'] for f in v] for k, v in second.items()} }"
    )


def saved_outputs(notebook: nbformat.NotebookNode) -> list[int]:
    """Numbers (from 1) of the code cells that carry outputs or an execution count."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [
        number
        for number, cell in enumerate(code, 1)
        if cell.get("outputs") or cell.get("execution_count") is not None
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    name = path.relative_to(ROOT).as_posix()
    # `make lab` runs the demos from a git-ignored copy (.lab/), so a notebook saved with
    # outputs here was opened from notebooks/ directly; say how to put it right.
    assert not saved_outputs(notebook), (
        f"{name} was saved with outputs (code cells {saved_outputs(notebook)}); clear them with "
        f"`.venv/bin/jupyter nbconvert --clear-output --inplace {name}` and keep your own runs "
        "in the working copy `make lab` serves (.lab/)"
    )


def test_saved_outputs_names_the_cells_to_clear():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("1"),
            nbformat.v4.new_markdown_cell("text"),
            nbformat.v4.new_code_cell("2", execution_count=3),
            nbformat.v4.new_code_cell(
                "3", outputs=[nbformat.v4.new_output("stream", name="stdout", text="3")]
            ),
        ]
    )
    assert saved_outputs(notebook) == [2, 3]


def test_the_demo_notebooks_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01-quickstart.ipynb",
        "02-edit-existing-part.ipynb",
        "03-sessions-and-resume.ipynb",
        "04-collaboration.ipynb",
    } <= names

"""Every demo notebook runs headless from top to bottom without an API key.

The notebooks check their own results (``assert`` cells: the plate's size, the parameter
change, undo, archived sessions), so a run without an error cell is a real pass.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_headless(path, tmp_path, monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "SOLIDTYPE_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOLIDTYPE_DATABASE_URL", f"sqlite:///{tmp_path / 'nb.db'}")
    notebook = nbformat.read(path, as_version=4)
    # Run in a scratch directory: the notebooks write their documents and exports there.
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert all(
        not cell.get("outputs") and cell.get("execution_count") is None
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


def test_the_demo_notebooks_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01-quickstart.ipynb",
        "02-edit-existing-part.ipynb",
        "03-sessions-and-resume.ipynb",
        "04-collaboration.ipynb",
    } <= names

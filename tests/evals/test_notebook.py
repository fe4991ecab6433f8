"""Notebook 05 runs its cases beside a terminal run's results, never over them: the CLI's
default ``--out`` is ``eval-results``, the folder a user opens the notebook next to."""

from __future__ import annotations

from pathlib import Path

import nbformat
from integration.test_notebooks import ROOT, demo_client


def test_notebook_05_keeps_a_terminal_runs_results(tmp_path, monkeypatch) -> None:
    terminal_run = tmp_path / "eval-results"
    terminal_run.mkdir()
    (terminal_run / "results.json").write_text('{"model": "anthropic:claude-sonnet"}\n')
    notebook = nbformat.read(ROOT / "notebooks" / "05-evaluate-a-model.ipynb", as_version=4)
    demo_client(notebook, tmp_path, monkeypatch).execute()
    assert (terminal_run / "results.json").read_text() == '{"model": "anthropic:claude-sonnet"}\n'
    written = sorted(p.name for p in Path(tmp_path).rglob("report.html"))
    assert written == ["report.html"]

"""Evaluating a model at building parts from a sentence, scored by geometry.

``solidtype-jupyter eval SUITE --model PROVIDER:MODEL`` (``evals.cli``) runs every case of a
suite through the chat's own loop and tools on a fresh document, scores the final model
against the case's expected figures, rebuilds its exported script in a fresh interpreter,
and writes ``results.json``, ``report.md`` and ``report.html``.

Public API:

- suites: ``load_suite`` (``"builtin"`` or a JSON Lines path), ``parse_suite``, ``suite_text``,
  ``Suite``, ``Case``, ``Expected``, ``Tolerance``, ``SuiteError`` (names the bad line);
- scoring: ``measure_document`` / ``measure`` (→ ``Figures``), ``score`` (→ list of ``Miss``:
  figure, expected, actual, tolerance), ``rebuild_figures`` and ``compare_rebuild`` (the script
  in a fresh interpreter);
- running: ``eval_model`` (``"replay"`` or ``provider:model`` → ``EvalModel``), ``run_case``,
  ``run_suite``, ``RunOptions``;
- results: ``CaseResult``, ``EvalResults``, ``read_results``, ``write_results``;
  ``write_reports`` (Markdown and HTML), ``Price`` / ``list_price`` (cost estimates).
"""

from .pricing import Price, list_price, parse_price
from .rebuild import rebuild_figures
from .report import write_reports
from .results import CaseResult, EvalResults, read_results, write_results
from .runner import REPLAY, EvalModel, RunOptions, eval_model, run_case, run_suite
from .scoring import Figures, Miss, compare_rebuild, measure, measure_document, score
from .suite import (
    BUILTIN,
    Case,
    Expected,
    Suite,
    SuiteError,
    Tolerance,
    load_suite,
    parse_suite,
    suite_text,
)

__all__ = [
    "BUILTIN",
    "REPLAY",
    "Case",
    "CaseResult",
    "EvalModel",
    "EvalResults",
    "Expected",
    "Figures",
    "Miss",
    "Price",
    "RunOptions",
    "Suite",
    "SuiteError",
    "Tolerance",
    "compare_rebuild",
    "eval_model",
    "list_price",
    "load_suite",
    "measure",
    "measure_document",
    "parse_price",
    "parse_suite",
    "read_results",
    "rebuild_figures",
    "run_case",
    "run_suite",
    "score",
    "suite_text",
    "write_reports",
    "write_results",
]

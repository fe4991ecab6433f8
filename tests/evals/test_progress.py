"""The progress bar when standard error is not a terminal (CI logs, a pipe): a line per case
that says why a failed case failed, its error first (the misses follow from it)."""

from __future__ import annotations

import asyncio
import io
import json

from solidtype_jupyter.evals import REPLAY, eval_model, parse_suite, run_case
from solidtype_jupyter.evals.cli import ProgressBar

PLATE = {
    "id": "plate",
    "prompt": "a 60 x 40 x 8 mm plate",
    "expected": {"volume": 19200, "area": 6400, "bbox": [60, 40, 8]},
}


def test_a_failed_line_names_the_error_before_the_misses() -> None:
    case = parse_suite(json.dumps(PLATE) + "\n", "t.jsonl").cases[0]  # no replay: an error
    result = asyncio.run(run_case(case, eval_model(REPLAY, {})))
    stream = io.StringIO()
    bar = ProgressBar(2, stream)
    bar.update("plate", None)
    assert stream.getvalue() == ""  # no bar redrawn into a log
    bar.update("plate", result)
    bar.close()
    line = stream.getvalue()
    assert line.startswith("[1/2] plate: FAIL (")
    assert line.index("case plate has no replay") < line.index("solids: expected 1, got 0")
    assert line.endswith("\n") and line.count("\n") == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_every_redraw_fits_one_line_and_clears_the_last(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    stream = _Terminal()
    bar = ProgressBar(3, stream)
    long_id = "a_case_with_a_rather_long_name_" * 3
    bar.update(long_id, None)
    bar.update("short", None)
    bar.close()
    redraws = stream.getvalue().rstrip("\n").split("\r")[1:]
    assert len(redraws) == 2 and "\n" not in "".join(redraws)
    # short enough not to wrap on a 60-column terminal, long enough to cover the last one
    assert {len(r) for r in redraws} == {59}
    assert redraws[1].startswith("[..............................] 0/3 passed 0")

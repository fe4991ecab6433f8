"""Unbounded inputs are refused with a clear error: too many cases at once, a suite file far
larger than any suite, a suite of more cases than one run can hold."""

from __future__ import annotations

import asyncio
import json

import pytest

from solidtype_jupyter.evals import REPLAY, SuiteError, eval_model, load_suite, parse_suite
from solidtype_jupyter.evals import run_suite as run
from solidtype_jupyter.evals.runner import MAX_JOBS
from solidtype_jupyter.evals.suite import MAX_CASES, MAX_SUITE_BYTES

CASE = {
    "id": "cube",
    "prompt": "a 20 mm cube",
    "expected": {"volume": 8000, "area": 2400, "bbox": [20, 20, 20]},
}


def test_jobs_beyond_the_limit_are_refused(tmp_path) -> None:
    suite = parse_suite(json.dumps(CASE) + "\n")
    with pytest.raises(ValueError, match=f"jobs must be from 1 to {MAX_JOBS}, got 100000"):
        asyncio.run(run(suite, eval_model(REPLAY, {}), tmp_path, jobs=100_000))
    assert not (tmp_path / "results.json").exists()


def test_a_file_far_larger_than_a_suite_is_refused_unread(tmp_path) -> None:
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as handle:
        handle.truncate(MAX_SUITE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(SuiteError, match="larger than 32 MiB"):
        load_suite(str(huge))


def test_a_suite_of_more_cases_than_the_limit_is_refused_naming_the_line() -> None:
    lines = [json.dumps({**CASE, "id": f"c{i}"}) for i in range(MAX_CASES + 1)]
    with pytest.raises(SuiteError, match=f"<suite>:{MAX_CASES + 1}: a suite holds at most"):
        parse_suite("\n".join(lines))


def test_an_out_that_is_a_file_or_a_damaged_results_file_is_refused_clearly(tmp_path) -> None:
    suite = parse_suite(json.dumps(CASE) + "\n")
    model = eval_model(REPLAY, {})
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine\n")
    with pytest.raises(ValueError, match=r"notes\.txt is a file: --out names the folder"):
        asyncio.run(run(suite, model, a_file))
    assert a_file.read_text() == "mine\n"
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "results.json").write_text('{"x": 1}\n')
    with pytest.raises(ValueError) as refused:
        asyncio.run(run(suite, model, damaged, resume=True))
    message = str(refused.value)
    assert "is not a results file of this version (model: Field required;" in message
    assert "errors.pydantic.dev" not in message and "\n" not in message

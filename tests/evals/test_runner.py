"""Running a case: the time limit, a replay that is missing, tool errors and approvals."""

from __future__ import annotations

import asyncio
import json

from solidtype_jupyter.evals import REPLAY, RunOptions, eval_model, parse_suite, run_case

PLATE = {
    "id": "plate",
    "prompt": "a 60 x 40 x 8 mm plate",
    "expected": {"volume": 19200, "area": 6400, "bbox": [60, 40, 8]},
}


def _case(**changes: object):
    return parse_suite(json.dumps({**PLATE, **changes}) + "\n", "t.jsonl").cases[0]


def test_a_case_past_its_time_limit_fails_saying_so() -> None:
    slow = _case(replay=[{"text": ["."], "repeat": 1000, "delay_ms": 50}])
    result = asyncio.run(run_case(slow, eval_model(REPLAY, {}), RunOptions(time_limit=1)))
    assert not result.passed
    assert result.error == "time limit: the case took longer than 1 s"
    assert result.seconds < 30
    assert [m.figure for m in result.misses][:1] == ["solids"]


def test_replay_without_recorded_turns_is_an_error_of_that_case() -> None:
    result = asyncio.run(run_case(_case(), eval_model(REPLAY, {})))
    assert (
        not result.passed and result.error == "case plate has no replay (needed by --model replay)"
    )


def test_tool_errors_are_counted_and_the_model_may_recover() -> None:
    sketch = {"entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    replay = [
        {"tool_calls": [{"name": "create_sketch", "arguments": sketch}]},
        {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch9", "distance": 8}}]},
        {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch1", "distance": 8}}]},
        {"text": "Done.", "usage": {"input_tokens": 1200, "output_tokens": 80}},
    ]
    model = eval_model(REPLAY, {})
    result = asyncio.run(run_case(_case(replay=replay), model))
    assert result.passed, result.misses
    assert (result.tool_calls, result.tool_errors, result.model_turns) == (3, 1, 4)
    assert (result.input_tokens, result.output_tokens) == (1200, 80)
    assert result.cost_usd is None  # the replay model has no price


def test_max_turns_stops_a_model_that_never_finishes() -> None:
    looping = [{"tool_calls": [{"name": "get_geometry", "arguments": {}}]}] * 10
    result = asyncio.run(
        run_case(_case(replay=looping), eval_model(REPLAY, {}), RunOptions(max_turns=3))
    )
    assert result.finish_reason == "max_tool_iterations" and result.tool_calls == 4
    assert not result.passed


def test_cost_estimates_use_the_given_or_the_list_price() -> None:
    from solidtype_jupyter.evals import Price, list_price, parse_price

    assert parse_price("3,15") == Price(3.0, 15.0)
    assert Price(3.0, 15.0).cost(1_000_000, 100_000) == 4.5
    assert list_price("anthropic:claude-sonnet") == Price(3.0, 15.0)
    assert list_price("openai-compatible:gpt-4o-mini") == Price(0.15, 0.6)  # the longer prefix
    assert list_price("openai-compatible:qwen2.5-coder:7b") is None
    for bad in ("3", "a,b", "-1,2"):
        try:
            parse_price(bad)
        except ValueError as exc:
            assert "--price must be INPUT,OUTPUT" in str(exc)
        else:
            raise AssertionError(bad)
    sketch = {"entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    replay = [
        {"tool_calls": [{"name": "create_sketch", "arguments": sketch}]},
        {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch1", "distance": 8}}]},
        {"text": "Done.", "usage": {"input_tokens": 1_000_000, "output_tokens": 100_000}},
    ]
    model = eval_model(REPLAY, {}, Price(3.0, 15.0))
    result = asyncio.run(run_case(_case(replay=replay), model))
    assert result.passed and result.cost_usd == 4.5


def test_concurrent_cases_do_not_break_each_others_cad_work(tmp_path) -> None:
    """Eight hole and edge cases at once: with their tool calls running in parallel threads,
    7 of 8 failed ("bad face selector '>Z'": CadQuery's selector parser is not thread-safe);
    the run's registry runs them one at a time."""
    from solidtype_jupyter.evals import load_suite, run_suite

    ids = [
        "plate_four_holes",
        "counterbored_block",
        "blind_hole",
        "hole_grid",
        "hole_row_pattern",
        "mounting_plate",
        "chamfered_bore",
        "filleted_block",
    ]
    suite = load_suite("builtin").select(ids)
    results = asyncio.run(
        run_suite(
            suite, eval_model(REPLAY, {}), tmp_path, jobs=8, options=RunOptions(pictures=False)
        )
    )
    assert [(c.id, c.tool_errors) for c in results.cases if not c.passed] == []

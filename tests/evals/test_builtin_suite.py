"""The builtin suite with the replay model: every case passes, through the chat's own loop,
tools and approvals, scored by geometry and with its script rebuilt (about 1 s a case on
2 cores without pictures: the whole suite runs here; BENCHMARKS.md, Evaluation)."""

from __future__ import annotations

import asyncio
import json
import math

from solidtype_jupyter.evals import (
    REPLAY,
    RunOptions,
    eval_model,
    load_suite,
    read_results,
    run_suite,
    suite_text,
)


def test_the_builtin_suite_has_forty_cases_each_with_a_reference_and_a_replay() -> None:
    suite = load_suite("builtin")
    assert len(suite.cases) >= 40
    for case in suite.cases:
        assert case.reference, f"{case.id}: no reference"
        assert case.replay, f"{case.id}: no replay"
        assert case.expected.solids == 1
        assert all(math.isfinite(v) for v in (case.expected.volume, case.expected.area))
    # From one-liners to multi-step parts, edits that need approval among them.
    tools = {
        call["name"]
        for case in suite.cases
        for turn in case.replay or []
        for call in turn.get("tool_calls", [])
    }
    assert {"extrude", "revolve", "fillet", "chamfer", "hole", "shell", "boolean"} <= tools
    assert {"pattern", "set_parameter", "modify_feature", "delete_feature", "undo"} <= tools


def test_the_builtin_suite_passes_with_the_replay_model(tmp_path) -> None:
    suite = load_suite("builtin")
    results = asyncio.run(
        run_suite(
            suite,
            eval_model(REPLAY, {}),
            tmp_path,
            jobs=2,
            options=RunOptions(pictures=False),
        )
    )
    failed = {c.id: [m.message for m in c.misses] or c.error for c in results.cases if not c.passed}
    assert not failed, failed
    assert results.complete and results.pass_rate == 1.0
    assert [c.id for c in results.cases] == [c.id for c in suite.cases]
    for case in results.cases:
        assert case.rebuild is not None and "error" not in case.rebuild, case.id
        assert case.tool_calls >= 1 and case.finish_reason == "stop", case.id
    # confirm tools (set_parameter, modify_feature, delete_feature) were approved and counted
    approvals = {c.id: c.approvals for c in results.cases}
    assert approvals["parametric_cylinder_edit"] == 3
    assert approvals["enlarge_hole"] == 1 and approvals["cube"] == 0
    stored = read_results(tmp_path)
    assert stored is not None and stored.passed == len(suite.cases)
    assert json.loads((tmp_path / "results.json").read_text())["pass_rate"] == 1.0


def test_print_suite_gives_the_shipped_file_verbatim() -> None:
    text = suite_text("builtin")
    assert text.splitlines()[0].startswith("#")
    assert len([line for line in text.splitlines() if line.startswith("{")]) >= 40

"""The report says why a case built nothing: its failed tool calls are counted in the table."""

from __future__ import annotations

import asyncio
import json

from solidtype_jupyter.evals import REPLAY, EvalResults, eval_model, parse_suite, run_case
from solidtype_jupyter.evals.report import markdown, page

PLATE = {
    "id": "plate",
    "prompt": "a 60 x 40 x 8 mm plate",
    "expected": {"volume": 19200, "area": 6400, "bbox": [60, 40, 8]},
}


def test_the_table_counts_failed_tool_calls() -> None:
    sketch = {"entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    replay = [
        {"tool_calls": [{"name": "create_sketch", "arguments": sketch}]},
        {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch9", "distance": 8}}]},
        {"text": "Done."},
    ]
    case = parse_suite(json.dumps({**PLATE, "replay": replay}) + "\n").cases[0]
    result = asyncio.run(run_case(case, eval_model(REPLAY, {})))
    results = EvalResults(model=REPLAY, suite="t", started="now", total=1, cases=[result])
    results.tally()
    assert not result.passed and result.tool_errors == 1
    assert "bbox: there is no solid to measure | 2 (1 failed) | 0 |" in markdown(results)
    assert "<td>2 (1 failed)</td>" in page(results)

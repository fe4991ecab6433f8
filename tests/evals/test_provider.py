"""A real provider SDK (Anthropic's) against a local server speaking its streaming format
(``tests/llm/fake_llm_server.py``): a rate limit is retried by the adapters' own backoff, the
tokens they report give the cost estimate, and a case the provider never answered (rate limits
past every retry) is run again by ``--resume`` instead of being kept as the model's failure."""

from __future__ import annotations

import asyncio
import json

from llm.fake_llm_server import FakeLLMServer, HttpError, ToolUse, Turn

from solidtype_jupyter.evals import RunOptions, eval_model, parse_suite, read_results, run_suite
from solidtype_jupyter.evals.pricing import LIST_PRICES

PLATE = {
    "id": "plate",
    "prompt": "a 60 x 40 x 8 mm plate",
    "expected": {"volume": 19200, "area": 6400, "bbox": [60, 40, 8]},
}
SKETCH = {"plane": "XY", "entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
EXTRUDE = {"sketch_id": "sketch1", "distance": 8}
OPTIONS = RunOptions(pictures=False)


def _solution() -> tuple[Turn, Turn]:
    tools = [
        ToolUse("call_1", "create_sketch", [json.dumps(SKETCH)]),
        ToolUse("call_2", "extrude", [json.dumps(EXTRUDE)]),
    ]
    return (
        Turn(tool_calls=tools, input_tokens=1000, output_tokens=100),
        Turn(text=["A 60 x 40 x 8 mm plate."], input_tokens=1500, output_tokens=20),
    )


def _model(server: FakeLLMServer):
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": server.anthropic_url}
    return eval_model("anthropic:claude-sonnet-4-5", env)


def test_a_rate_limit_is_retried_and_tokens_give_the_cost(tmp_path) -> None:
    suite = parse_suite(json.dumps(PLATE) + "\n", "t.jsonl")
    with FakeLLMServer() as server:
        server.anthropic.push(HttpError(429), *_solution())
        results = asyncio.run(run_suite(suite, _model(server), tmp_path, options=OPTIONS))
        requests = server.requests_to("anthropic")
    case = results.cases[0]
    assert case.passed, (case.error, case.misses)
    assert len(requests) == 3  # the 429, then the two turns
    assert (case.input_tokens, case.output_tokens, case.tool_calls) == (2500, 120, 2)
    price = LIST_PRICES[("anthropic", "claude-sonnet")]
    assert case.cost_usd == price.cost(2500, 120) and results.cost_usd == case.cost_usd


def test_resume_runs_again_a_case_the_provider_never_answered(tmp_path) -> None:
    suite = parse_suite(json.dumps(PLATE) + "\n", "t.jsonl")
    with FakeLLMServer() as server:
        server.anthropic.push(*[HttpError(429, retry_after_ms=1)] * 40)
        first = asyncio.run(run_suite(suite, _model(server), tmp_path, options=OPTIONS))
        case = first.cases[0]
        assert not case.passed and case.error_code == "rate_limited", case.error
        assert 1 < len(server.requests_to("anthropic")) < 40  # retried, then given up
        while server.anthropic.pop() is not None:  # the provider answers again
            pass
        server.anthropic.push(*_solution())
        again = asyncio.run(
            run_suite(suite, _model(server), tmp_path, options=OPTIONS, resume=True)
        )
    assert again.passed == again.completed == 1 and again.cases[0].error is None
    assert read_results(tmp_path).cases[0].passed  # type: ignore[union-attr]

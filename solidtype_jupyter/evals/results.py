"""``results.json``: what a run found, written after every case so an interrupted run keeps
its finished cases and ``--resume`` can go on from them."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._version import __version__
from .scoring import Miss
from .suite import validation_errors

RESULTS_FILE = "results.json"


class CaseResult(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str
    passed: bool = Field(alias="pass")
    prompt: str
    expected: dict[str, Any]
    figures: dict[str, Any] | None = None
    misses: list[Miss] = Field(default_factory=list)
    rebuild: dict[str, Any] | None = None
    tool_calls: int = 0
    tool_errors: int = 0
    approvals: int = 0
    model_turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0
    #: where the seconds went: model loop (model and tools), scoring, rebuild, picture
    timings: dict[str, float] = Field(default_factory=dict)
    finish_reason: str | None = None
    error: str | None = None
    #: the model error's code (``rate_limited``, ``auth``...); None when the model answered
    error_code: str | None = None
    picture: str | None = None
    script: str | None = None


class EvalResults(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    model: str
    suite: str
    started: str
    finished: str | None = None
    complete: bool = False
    total: int
    completed: int = 0
    passed: int = 0
    pass_rate: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0
    jobs: int = 1
    max_turns: int = 20
    time_limit: float = 600.0
    version: str = __version__
    cases: list[CaseResult] = Field(default_factory=list)

    def add(self, result: CaseResult) -> None:
        self.cases = [c for c in self.cases if c.id != result.id] + [result]
        self.tally()

    def tally(self) -> None:
        self.completed = len(self.cases)
        self.passed = sum(1 for c in self.cases if c.passed)
        self.pass_rate = self.passed / self.completed if self.completed else None
        self.complete = self.completed >= self.total
        self.input_tokens = sum(c.input_tokens for c in self.cases)
        self.output_tokens = sum(c.output_tokens for c in self.cases)
        costs = [c.cost_usd for c in self.cases]
        self.cost_usd = None if not costs or None in costs else sum(c for c in costs if c)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"


def write_results(results: EvalResults, folder: Path) -> Path:
    """Atomically (a temporary file renamed over it): a Ctrl-C never leaves half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / RESULTS_FILE
    fd, temporary = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(results.to_json())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_results(folder: Path) -> EvalResults | None:
    """The results already in ``folder``, or None; ``ValueError`` for a damaged file."""
    path = folder / RESULTS_FILE
    if not path.exists():
        return None
    try:
        return EvalResults.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise ValueError(
            f"{path} is not a results file of this version ({validation_errors(exc)}): "
            "choose another --out"
        ) from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise ValueError(f"{path} is not a results file: {exc}; choose another --out") from None

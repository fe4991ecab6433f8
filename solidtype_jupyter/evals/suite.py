"""Eval suites: JSON Lines files of cases, validated line by line.

One case per line (blank lines and lines starting with ``#`` are ignored)::

    {"id": "plate", "prompt": "a 60 x 40 x 8 mm plate",
     "expected": {"volume": 19200, "area": 6400, "bbox": [60, 40, 8], "solids": 1},
     "tolerance": {"volume": 0.001},
     "reference": "V = 60*40*8, A = 2(60*40 + 60*8 + 40*8)",
     "replay": [{"tool_calls": [...]}, {"text": "Done."}]}

- ``id``: letters, digits, ``_``, ``-``, ``.`` (it names the case's picture file), unique;
- ``prompt``: what the user asks, sent as the chat's first message on a fresh document;
- ``expected``: ``volume`` (mm³), ``area`` (mm²), ``bbox`` (the sizes ``[dx, dy, dz]`` in
  mm), ``solids`` (default 1), optionally ``faces`` (an exact count);
- ``tolerance`` (optional): ``volume`` and ``area`` relative (default 0.001, i.e. 0.1%),
  ``bbox`` absolute in mm (default 0.01), ``bbox_order``: ``any`` (default: the sizes are
  compared sorted, so a part built lying on another side passes) or ``xyz``;
- ``reference`` (optional): how the expected figures were computed;
- ``replay`` (optional): the turns of a scripted model that solves the case, in the format of
  ``llm/adapters/scripted.py`` (without ``prompt``); ``--model replay`` plays them.

``builtin`` names the suite shipped in this package (``builtin.jsonl``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..llm.adapters.scripted import ScriptedTurn, ScriptError, json_lines, parse_script

BUILTIN = "builtin"
#: Far above any real suite (the builtin one is 51 cases, 100 kB), low enough that a wrong
#: file (a log, a data set) is refused at once instead of read into memory.
MAX_SUITE_BYTES = 32 * 1024 * 1024
MAX_CASES = 10_000
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class SuiteError(ValueError):
    """A suite that cannot be used; the message names the file and line."""


class Tolerance(BaseModel):
    # Python's JSON reads Infinity and 1e400 as inf: an infinite figure or tolerance would
    # make its check always pass, so it is refused.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    volume: float = Field(default=1e-3, gt=0, le=1, description="relative")
    area: float = Field(default=1e-3, gt=0, le=1, description="relative")
    bbox: float = Field(default=0.01, gt=0, description="absolute, mm")
    bbox_order: Literal["any", "xyz"] = "any"


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    volume: float = Field(gt=0)
    area: float = Field(gt=0)
    bbox: tuple[float, float, float]
    solids: int = Field(default=1, ge=1)
    faces: int | None = Field(default=None, ge=1)

    @field_validator("bbox")
    @classmethod
    def _sizes(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(not v > 0 for v in value):
            raise ValueError("bbox sizes must be positive numbers [dx, dy, dz]")
        return value


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    prompt: str = Field(min_length=1, max_length=10_000)
    expected: Expected
    tolerance: Tolerance = Field(default_factory=lambda: Tolerance())
    reference: str | None = None
    replay: list[dict[str, Any]] | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError(
                "id must be 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit"
            )
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be blank")
        return value

    def replay_turns(self) -> list[ScriptedTurn]:
        """The replay as scripted turns (checked when the suite is read)."""
        return _replay_turns(self.replay or [], self.id)


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...]

    def select(self, ids: list[str] | None) -> Suite:
        """The cases named in ``ids`` (all when None), in the suite's order."""
        if not ids:
            return self
        known = {c.id for c in self.cases}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise SuiteError(f"{self.name} has no case {', '.join(unknown)}")
        wanted = set(ids)
        return Suite(self.name, tuple(c for c in self.cases if c.id in wanted))


def _replay_turns(replay: list[dict[str, Any]], where: str) -> list[ScriptedTurn]:
    for turn in replay:
        if "prompt" in turn:
            raise ScriptError(f"{where}: replay turns take no prompt (a case has its own)")
    text = "\n".join(json.dumps(turn) for turn in replay)
    return parse_script(text, f"{where} replay turn")


def builtin_path() -> Path:
    return Path(str(resources.files(__package__).joinpath("builtin.jsonl")))


def suite_text(source: str) -> str:
    """The JSON Lines text of ``source``: ``builtin`` or a path."""
    path = builtin_path() if source == BUILTIN else Path(source).expanduser()
    try:
        if path.stat().st_size > MAX_SUITE_BYTES:
            raise SuiteError(
                f"the suite {source!r} is larger than {MAX_SUITE_BYTES // 2**20} MiB: "
                "is it a JSON Lines suite?"
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"no suite at {source!r} (a JSON Lines file, or `builtin`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the suite {source!r}: {exc}") from None


def load_suite(source: str) -> Suite:
    """``builtin`` or a JSON Lines file; ``SuiteError`` naming the line of a bad case."""
    return parse_suite(suite_text(source), BUILTIN if source == BUILTIN else source)


def parse_suite(text: str, origin: str = "<suite>") -> Suite:
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for lineno, where, raw in json_lines(text, origin, SuiteError, "a case"):
        try:
            case = Case.model_validate(raw)
        except ValidationError as exc:
            raise SuiteError(f"{where}: {validation_errors(exc)}") from None
        if case.id in seen:
            raise SuiteError(
                f"{where}: case id {case.id!r} is already used on line {seen[case.id]}"
            )
        try:
            case.replay_turns()
        except ScriptError as exc:
            raise SuiteError(f"{where}: {exc}") from None
        seen[case.id] = lineno
        cases.append(case)
        if len(cases) > MAX_CASES:
            raise SuiteError(f"{where}: a suite holds at most {MAX_CASES} cases")
    if not cases:
        raise SuiteError(f"{origin}: the suite has no case")
    return Suite(origin, tuple(cases))


def validation_errors(exc: ValidationError) -> str:
    """Pydantic's errors on one line, each as ``field: why`` (no help links)."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)

"""A model that replays a script: tests, Binder demos without a key, and benchmarks.

It goes through the same loop, tools and approvals as a real model; only the model's words
and tool calls come from a file.

Script format (JSON Lines, UTF-8): one JSON object per line, one line per model turn; blank
lines and lines starting with ``#`` are ignored. Turn ``n`` answers the request whose
conversation already holds ``n`` assistant turns, so replay is deterministic across requests,
approvals and server restarts. Keys of a turn (all optional):

``text``
    A string (streamed in word-sized deltas) or a list of strings (streamed as exactly those
    deltas).
``repeat``
    Stream the ``text`` deltas this many times (benchmarks: ``{"text": ["x"], "repeat": 100000}``).
``delay_ms``
    Time between two text deltas, in milliseconds (paced streams for latency benchmarks). A
    schedule, like a remote model's: delta ``i`` is due ``i * delay_ms`` after the first, and a
    delta already late (a busy server) goes at once, so a slow reader does not slow the model.
``tool_calls``
    A list of ``{"name": ..., "arguments": {...} | "<raw JSON text>", "id": ...}``; ``id`` is
    optional (``call_<turn>_<i>`` by default). Raw text lets a script send invalid JSON. The turn's
    stop reason becomes ``tool_calls``.
``stop``
    Override the stop reason (``stop``, ``tool_calls``, ``length``, ``content_filter``, ``other``).
``usage``
    ``{"input_tokens": n, "output_tokens": m}`` to report.
``error``
    ``{"code": "overloaded", "message": "..."}``: the turn fails with ``ModelError`` after its
    text (for error-path tests).

Example::

    {"text": "Sketching.", "tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]}
    {"text": "Done."}

When the script runs out, the model says so in one sentence and stops.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..types import (
    AssistantMessage,
    ModelError,
    ModelEvent,
    ModelRequest,
    ModelStopped,
    StopReason,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallEnded,
    ToolCallStarted,
    Usage,
)

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"
END_OF_SCRIPT = "(The scripted conversation has no more turns.)"
_STOP_REASONS = ("stop", "tool_calls", "length", "content_filter", "other")
_ARGS_FRAGMENT = 24  # characters per argument delta, so clients see real reassembly


@dataclass(frozen=True)
class ScriptedToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ScriptedTurn:
    deltas: tuple[str, ...] = ()
    repeat: int = 1
    delay: float = 0.0
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    stop: StopReason = "stop"
    usage: Usage = field(default_factory=Usage)
    error: tuple[str, str] | None = None  # (code, message)


class ScriptError(ValueError):
    """A script line that does not follow the format (the message names the line)."""


def resolve_script_path(name: str) -> Path:
    """A path, or the name of a bundled script (``quickstart`` → ``scripts/quickstart.jsonl``)."""
    path = Path(name).expanduser()
    if path.exists():
        return path
    bundled = SCRIPTS_DIR / (name if name.endswith(".jsonl") else f"{name}.jsonl")
    if "/" not in name and bundled.exists():
        return bundled
    available = ", ".join(sorted(p.stem for p in SCRIPTS_DIR.glob("*.jsonl")))
    raise ScriptError(f"no script at {name!r} (bundled scripts: {available})")


def load_script(source: str | Path) -> list[ScriptedTurn]:
    path = resolve_script_path(str(source))
    return parse_script(path.read_text(encoding="utf-8"), str(path))


def parse_script(text: str, origin: str = "<script>") -> list[ScriptedTurn]:
    turns: list[ScriptedTurn] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{origin}:{lineno}"
        try:
            raw = json.loads(stripped)
        except ValueError as exc:
            raise ScriptError(f"{where}: not JSON ({exc})") from exc
        if not isinstance(raw, dict):
            raise ScriptError(f"{where}: a turn must be a JSON object")
        turns.append(_parse_turn(raw, len(turns), where))
    return turns


def _parse_turn(raw: dict[str, Any], number: int, where: str) -> ScriptedTurn:
    unknown = set(raw) - {"text", "repeat", "delay_ms", "tool_calls", "stop", "usage", "error"}
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}")
    text = raw.get("text", [])
    if isinstance(text, str):
        deltas = tuple(re.findall(r"\s*\S+\s*|\s+", text))
    elif isinstance(text, list) and all(isinstance(t, str) for t in text):
        deltas = tuple(text)
    else:
        raise ScriptError(f"{where}: text must be a string or a list of strings")
    repeat = raw.get("repeat", 1)
    delay_ms = raw.get("delay_ms", 0)
    if not isinstance(repeat, int) or repeat < 1:
        raise ScriptError(f"{where}: repeat must be a positive integer")
    if not isinstance(delay_ms, int | float) or delay_ms < 0:
        raise ScriptError(f"{where}: delay_ms must be a number >= 0")
    calls: list[ScriptedToolCall] = []
    raw_calls = raw.get("tool_calls", [])
    if not isinstance(raw_calls, list):
        raise ScriptError(f"{where}: tool_calls must be a list")
    for i, call in enumerate(raw_calls):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ScriptError(f"{where}: tool call {i} needs a string name")
        args = call.get("arguments", {})
        arguments = args if isinstance(args, str) else json.dumps(args, separators=(",", ":"))
        call_id = call.get("id") or f"call_{number}_{i}"
        calls.append(ScriptedToolCall(str(call_id), call["name"], arguments))
    stop = raw.get("stop", "tool_calls" if calls else "stop")
    if stop not in _STOP_REASONS:
        raise ScriptError(f"{where}: stop must be one of {', '.join(_STOP_REASONS)}")
    usage_raw = raw.get("usage", {})
    if not isinstance(usage_raw, dict):
        raise ScriptError(f"{where}: usage must be an object")
    error = raw.get("error")
    if error is not None and not (isinstance(error, dict) and isinstance(error.get("code"), str)):
        raise ScriptError(f"{where}: error must be {{'code': ..., 'message': ...}}")
    return ScriptedTurn(
        deltas=deltas,
        repeat=repeat,
        delay=float(delay_ms) / 1000,
        tool_calls=tuple(calls),
        stop=cast(StopReason, stop),
        usage=Usage(int(usage_raw.get("input_tokens", 0)), int(usage_raw.get("output_tokens", 0))),
        error=(error["code"], str(error.get("message", error["code"]))) if error else None,
    )


class ScriptedAdapter:
    def __init__(self, turns: Sequence[ScriptedTurn], name: str = "script") -> None:
        self.turns = list(turns)
        self._name = name

    @classmethod
    def from_file(cls, source: str | Path) -> ScriptedAdapter:
        return cls(load_script(source), name=str(source))

    @property
    def label(self) -> str:
        return f"scripted:{self._name}"

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        index = sum(1 for m in request.messages if isinstance(m, AssistantMessage))
        return self._replay(self.turns[index] if index < len(self.turns) else None)

    async def _replay(self, turn: ScriptedTurn | None) -> AsyncIterator[ModelEvent]:
        if turn is None:
            yield TextDelta(END_OF_SCRIPT)
            yield ModelStopped("stop", Usage(), "end_of_script")
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        index = 0
        for _ in range(turn.repeat):
            for delta in turn.deltas:
                if turn.delay and index:
                    await asyncio.sleep(max(0.0, started + index * turn.delay - loop.time()))
                index += 1
                yield TextDelta(delta)
        if turn.error is not None:
            code, message = turn.error
            raise ModelError(message, code)
        for call in turn.tool_calls:
            yield ToolCallStarted(call.id, call.name)
            for start in range(0, len(call.arguments), _ARGS_FRAGMENT):
                yield ToolCallArgsDelta(call.id, call.arguments[start : start + _ARGS_FRAGMENT])
            yield ToolCallEnded(call.id)
        yield ModelStopped(turn.stop, turn.usage, turn.stop)

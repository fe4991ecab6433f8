"""A model that replays a script: tests, Binder demos without a key, and benchmarks.

It goes through the same loop, tools and approvals as a real model; only the model's words
and tool calls come from a file.

Script format (JSON Lines, UTF-8): one JSON object per line, one line per model turn; blank
lines and lines starting with ``#`` are ignored. Which turn answers is decided from
the conversation alone (see *Demo scripts* below), so replay is deterministic across requests,
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

``prompt``
    The user request this turn starts to answer (see *Demo scripts*).

Example::

    {"text": "Sketching.", "tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]}
    {"text": "Done."}

When the script runs out, the model says so (it is a recording; how to connect a model) and
stops.

Demo scripts
------------
A script whose turns carry ``prompt`` is a demo: each ``prompt`` starts an *exchange*, the
turns that answer that request, up to the next ``prompt``. A demo is shown to people, so it
must never pretend:

- a request plays the first exchange not yet played whose prompt it matches (the same numbers,
  and most of the same words, ignoring case and punctuation); the exchanges go forward, never
  back (one that changed a document is not replayed on it); any other request is answered
  with what the demo can show and how to connect a model;
- the tools an exchange calls must all be in the request's tools (a chat without a CAD
  document has no editor tools): else nothing runs and the answer says what the demo needs;
- after a tool call that failed, was rejected, or ran with arguments the user edited, the
  replay stops and says which step and why, instead of playing text written for success;
- every exchange ends with a turn without tool calls.

A script without any ``prompt`` is raw: turn ``n`` answers the conversation that holds ``n``
assistant turns, whatever was asked (tests and benchmarks).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..model_choice import CONNECT_A_MODEL
from ..types import (
    AssistantMessage,
    ChatMessage,
    ModelError,
    ModelEvent,
    ModelRequest,
    ModelStopped,
    StopReason,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallEnded,
    ToolCallStarted,
    ToolResultMessage,
    Usage,
    UserMessage,
)

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"
END_OF_SCRIPT = (
    "This recorded conversation has no more turns: the chat replays a script, not a model. "
    + CONNECT_A_MODEL
)
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
    prompt: str | None = None  # the request this turn starts to answer (demo scripts)


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


def json_lines(
    text: str, origin: str, error: type[Exception], what: str
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Each JSON object of a JSON Lines text, with its line number and place ("file:line").

    Blank lines and `#` comments are skipped; a line that is not a JSON object raises `error`
    naming its place and `what` it should have been. (Scripts and eval suites share it.)
    """
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{origin}:{lineno}"
        try:
            raw = json.loads(stripped)
        except ValueError as exc:
            raise error(f"{where}: not JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise error(f"{where}: {what} must be a JSON object")
        yield lineno, where, raw


def load_script(source: str | Path) -> list[ScriptedTurn]:
    path = resolve_script_path(str(source))
    return parse_script(path.read_text(encoding="utf-8"), str(path))


def parse_script(text: str, origin: str = "<script>") -> list[ScriptedTurn]:
    turns: list[ScriptedTurn] = []
    places: list[str] = []
    for _lineno, where, raw in json_lines(text, origin, ScriptError, "a turn"):
        turns.append(_parse_turn(raw, len(turns), where))
        places.append(where)
    if any(t.prompt is not None for t in turns):
        if turns[0].prompt is None:
            raise ScriptError(f"{places[0]}: a demo script's first turn needs a prompt")
        for i, turn in enumerate(turns):
            ends_exchange = i + 1 == len(turns) or turns[i + 1].prompt is not None
            if ends_exchange and turn.tool_calls:
                raise ScriptError(
                    f"{places[i]}: the last turn of an exchange must not call tools "
                    "(nothing would answer their results)"
                )
    return turns


def _parse_turn(raw: dict[str, Any], number: int, where: str) -> ScriptedTurn:
    keys = {"text", "repeat", "delay_ms", "tool_calls", "stop", "usage", "error", "prompt"}
    unknown = set(raw) - keys
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
    prompt = raw.get("prompt")
    if prompt is not None and not (isinstance(prompt, str) and _tokens(prompt)):
        raise ScriptError(f"{where}: prompt must be a request in words")
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
        prompt=prompt,
    )


# Words that say how a request is built, not what it asks for.
_SEPARATORS = frozenset({"x", "ø"})
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
_MATCH = 0.6  # Dice coefficient of the two requests' words


@functools.lru_cache(maxsize=4096)  # a demo re-reads every earlier request at each turn
def _tokens(text: str) -> frozenset[str]:
    """The words and numbers of a request: ``"A 60x40 mm plate!"`` → a, 60, 40, mm, plate."""
    out = set()
    for token in _TOKEN.findall(text.lower()):
        if token[0].isdigit() and "." in token:
            token = token.rstrip("0").rstrip(".")
        if token not in _SEPARATORS:
            out.add(token)
    return frozenset(out)


def _similarity(request: frozenset[str], prompt: frozenset[str]) -> float:
    """0 when the request names a number the prompt does not (another size is another part),
    else how many words the two share."""
    if not request or {t for t in request if t[0].isdigit()} - prompt:
        return 0.0
    return 2 * len(request & prompt) / (len(request) + len(prompt))


@dataclass(frozen=True)
class _Exchange:
    prompt: str
    turns: tuple[ScriptedTurn, ...]

    @property
    def tools(self) -> list[str]:
        return list(dict.fromkeys(c.name for t in self.turns for c in t.tool_calls))


class ScriptedAdapter:
    def __init__(self, turns: Sequence[ScriptedTurn], name: str = "script") -> None:
        self.turns = list(turns)
        self._name = name
        self.exchanges: list[_Exchange] = []
        for turn in self.turns:
            if turn.prompt is not None:
                self.exchanges.append(_Exchange(turn.prompt, (turn,)))
            elif self.exchanges:
                last = self.exchanges[-1]
                self.exchanges[-1] = _Exchange(last.prompt, (*last.turns, turn))
        self._prompt_tokens = [_tokens(e.prompt) for e in self.exchanges]

    @classmethod
    def from_file(cls, source: str | Path) -> ScriptedAdapter:
        return cls(load_script(source), name=str(source))

    @property
    def label(self) -> str:
        return f"scripted:{self._name}"

    @property
    def is_demo(self) -> bool:
        """A demo script (its turns carry prompts): replayed only where it tells the truth."""
        return bool(self.exchanges)

    @property
    def prompts(self) -> list[str]:
        return [e.prompt for e in self.exchanges]

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        if not self.is_demo:
            index = sum(1 for m in request.messages if isinstance(m, AssistantMessage))
            if index < len(self.turns):
                return self._replay(self.turns[index])
            return self._say(END_OF_SCRIPT, "end_of_script")
        return self._demo(request)

    # --- demo scripts ----------------------------------------------------------------------

    def _match(self, text: str, start: int) -> int | None:
        """The exchange from ``start`` on that ``text`` asks for (the closest), or None."""
        request = _tokens(text)
        best, best_score = None, _MATCH
        for index in range(start, len(self.exchanges)):
            score = _similarity(request, self._prompt_tokens[index])
            if score >= best_score and (best is None or score > best_score):
                best, best_score = index, score
        return best

    def _missing(self, index: int, available: set[str]) -> list[str]:
        return [name for name in self.exchanges[index].tools if name not in available]

    def _demo(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        messages = request.messages
        available = {tool.name for tool in request.tools}
        asked = [i for i, m in enumerate(messages) if isinstance(m, UserMessage)]
        if not asked:
            return self._say(self._unknown(0, None, available), "demo_unknown_request")
        # Which exchanges earlier requests played: the same decision as when they were asked.
        played: set[int] = set()
        following = 0  # the exchanges go forward: the next request may ask for this one on
        for i in asked[:-1]:
            index = self._match(cast(UserMessage, messages[i]).content, following)
            if index is not None and not self._missing(index, available):
                played.add(index)
                following = index + 1
        since = messages[asked[-1] + 1 :]
        answered = sum(1 for m in since if isinstance(m, AssistantMessage))
        text = cast(UserMessage, messages[asked[-1]]).content
        index = self._match(text, following)
        if index is None:
            if answered:  # the honest answer was given; nothing more to say
                return self._say("", "stop")
            earlier = self._match(text, 0)
            behind = None if earlier is None else "played" if earlier in played else "skipped"
            answer = self._unknown(following, behind, available)
            return self._say(answer, "demo_unknown_request")
        missing = self._missing(index, available)
        if missing:
            return self._say(self._needs_tools(missing), "demo_tools_missing")
        stopped = _stopped_step(since)
        if stopped is not None:
            return self._say(stopped, "demo_step_failed")
        turns = self.exchanges[index].turns
        if answered >= len(turns):
            return self._say("The recording of this request ends here.", "end_of_script")
        return self._replay(turns[answered])

    def _unknown(self, following: int, behind: str | None, available: set[str]) -> str:
        """The answer to a request the demo will not play: what it is, what it can show,
        how to connect a model. ``behind``: the request is one it has ``played`` already
        in this chat, or ``skipped`` (a later one was asked first)."""
        head = (
            f"This chat runs a recorded demo ({self.label}), not a model: it can only replay "
            "the requests it has recorded"
        )
        if behind == "played":
            head += (
                ". That one was played already in this chat, and a recording cannot adapt to "
                "what it changed: start a new chat to see it again."
            )
        elif behind == "skipped":
            head += (
                ". That one comes before a request already played here, and the recorded "
                "steps only go forward: start a new chat to see it."
            )
        else:
            head += ", and this is not one of them."
        left = [
            exchange.prompt
            + (" (needs a chat with a CAD document)" if self._missing(i, available) else "")
            for i, exchange in enumerate(self.exchanges)
            if i >= following
        ]
        if left:
            shown = "\n".join(f"- {prompt}" for prompt in left)
            head += f"\n\nWhat it can show here (send one of these):\n{shown}"
        elif behind is None:
            head += " All of them have been played in this chat."
        return f"{head}\n\n{CONNECT_A_MODEL}"

    def _needs_tools(self, missing: list[str]) -> str:
        names = ", ".join(f"`{name}`" for name in missing)
        return (
            "This recorded demo needs a CAD document: it calls tools this chat does not have "
            f"({names}); a chat with no CAD document in front has only the workspace tools. "
            "Nothing was run.\n\n"
            "To see it, open or create a `*.solid.json` file and start a new chat with it in "
            "front (side panel: ☰, then +), or in a notebook run `%ai_chat plate.solid.json`."
            f"\n\n{CONNECT_A_MODEL}"
        )

    # --- streaming -------------------------------------------------------------------------

    async def _say(self, text: str, reason: str) -> AsyncIterator[ModelEvent]:
        # A line per delta: words would be a stream event each, for words written here.
        for delta in re.findall(r"[^\n]+\n*|\n+", text):
            yield TextDelta(delta)
        yield ModelStopped("stop", Usage(), reason)

    async def _replay(self, turn: ScriptedTurn) -> AsyncIterator[ModelEvent]:
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


def _stopped_step(since: Sequence[ChatMessage]) -> str | None:
    """Why the replay of this request must stop (a step failed, was rejected, or ran with
    arguments the user edited: the recorded next words were written for the step as
    recorded), or None."""
    calls = [c for m in since if isinstance(m, AssistantMessage) for c in m.tool_calls]
    steps = {call.id: (number, call.name) for number, call in enumerate(calls, start=1)}
    for message in since:
        if not isinstance(message, ToolResultMessage):
            continue
        number, name = steps.get(message.tool_call_id, (0, "a tool"))
        step = f"Step {number} of the recording (`{name}`)" if number else f"A step (`{name}`)"
        content = _json_object(message.content)
        if message.is_error and content.get("rejected") is True:
            return (
                f"{step} was declined, so the recorded demo stops here: its next steps were "
                f"recorded for that call having run. Nothing after it was run.\n\n"
                f"{CONNECT_A_MODEL}"
            )
        if message.is_error:
            return (
                f"{step} failed: {_error_message(content, message.content)}\n\n"
                "A recording cannot adapt to a failure, so the demo stops here; the steps "
                f"before it were applied.\n\n{CONNECT_A_MODEL}"
            )
        if "arguments" in content and "edited" in str(content.get("note", "")):
            shown = json.dumps(content["arguments"], ensure_ascii=False)
            return (
                f"{step} ran with the arguments you edited ({shown}), so the recorded answer "
                f"no longer fits: the demo stops here.\n\n{CONNECT_A_MODEL}"
            )
    return None


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error_message(content: dict[str, Any], raw: str) -> str:
    error = content.get("error")
    if isinstance(error, dict):  # {message, code, ...} from some tools
        error = error.get("message") or json.dumps(error, ensure_ascii=False)
    text = str(error) if error else raw
    problems = content.get("problems")
    if isinstance(problems, list) and problems:
        text += " (" + "; ".join(str(p) for p in problems[:3]) + ")"
    return text if len(text) <= 400 else text[:397] + "..."

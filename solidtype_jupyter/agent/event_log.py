"""A chat session's AG-UI events in its durable stream ``ai-chat/{session id}`` (JSON mode).

Writing: ``StreamWriter`` appends events in batches (one append holds every event produced
while the previous append was committing), so a fast model costs one commit per batch, not
per event, and nobody sees an event before it is stored: readers read the stream.

Offsets: every event gets its own position, the byte position after its compact JSON and
the separating comma in the stream (exactly the position it would have had if it were
appended alone). ``decode`` splits stored appends into ``LoggedEvent``s and skips those at
or before a position, so ``id: <offset>`` on each SSE frame resumes after that very event,
even in the middle of a batch.

Every reader trusts what ``decode`` gives it: an event that is not a valid AG-UI event (or a
``run.accepted`` marker without a run id) is skipped with a logged warning, keeping its
position, so one bad event (written by an older server that let clients append, or by a tool
with database access) can never break hydrate, the transcript or the next turn.

``SessionLog`` folds the whole stream into a ``Transcript`` plus what the service needs
to know about runs: which run is open, where each run starts (its ``run.accepted`` marker)
and where it ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..llm.transcript import Transcript
from ..protocol import agui
from ..streams import StreamEngine, StreamNotFoundError, format_offset
from ..streams.records import StoredMessage

JSON_CONTENT_TYPE = "application/json"
#: First event of every run (TanStack's durable responses start the same way); its value
#: records the run id and the approval answers the run was started with.
RUN_ACCEPTED = "run.accepted"
TERMINAL_TYPES = ("RUN_FINISHED", "RUN_ERROR")

log = logging.getLogger(__name__)
_decoder = json.JSONDecoder()
# Each bad event is reported once, not by every reader that passes it (bounded).
_reported: OrderedDict[tuple[str, int], None] = OrderedDict()
_MAX_REPORTED = 1024


@dataclass(frozen=True)
class LoggedEvent:
    """One stored event: ``position`` (after it), its exact stored JSON, the decoded dict."""

    position: int
    text: str
    data: dict[str, Any]
    #: The validated event (``decode`` fills it in, so it is parsed once).
    parsed: agui.AguiEvent | None = field(default=None, compare=False, repr=False)

    @property
    def offset(self) -> str:
        return format_offset(self.position)

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_TYPES

    def sse(self) -> str:
        return f"id: {self.offset}\ndata: {self.text}\n\n"

    def event(self) -> agui.AguiEvent:
        return self.parsed if self.parsed is not None else agui.parse_event(self.data)


def decode(
    messages: Sequence[StoredMessage], after: int, *, source: str = "a chat stream"
) -> list[LoggedEvent]:
    """The valid events of ``messages`` whose position is past ``after``; ``source`` (the
    stream's path) names where a malformed one was skipped in the warning."""
    out: list[LoggedEvent] = []
    for message in messages:
        if message.end <= after:
            continue
        text = message.data.decode("utf-8")
        position = message.end - len(message.data)
        index = 0
        while index < len(text):
            value, end = _decoder.raw_decode(text, index)
            piece = text[index:end]
            position += len(piece.encode("utf-8")) + 1  # the value and its comma
            index = end + 1
            if position > after:
                logged = _checked(position, piece, value, source)
                if logged is not None:
                    out.append(logged)
    return out


def _checked(position: int, text: str, value: Any, source: str) -> LoggedEvent | None:
    try:
        if not isinstance(value, dict):
            raise ValueError(f"not a JSON object but {type(value).__name__}")
        event = agui.parse_event(value)
        if isinstance(event, agui.Custom) and event.name == RUN_ACCEPTED:
            _check_marker(event.value)
    except ValueError as exc:  # pydantic's ValidationError included
        _report(source, position, text, exc)
        return None
    return LoggedEvent(position, text, value, event)


def _check_marker(value: Any) -> None:
    """What ``SessionLog`` and recovery read of a ``run.accepted`` marker."""
    if not isinstance(value, dict) or not isinstance(value.get("runId"), str):
        raise ValueError("a run.accepted marker needs a runId string")
    if not isinstance(value.get("threadId") or "", str):
        raise ValueError("a run.accepted marker's threadId must be a string")
    resume = value.get("resume") or []
    if not isinstance(resume, list):
        raise ValueError("a run.accepted marker's resume must be a list")
    for item in resume:
        agui.ResumeItem.model_validate(item)


def _report(source: str, position: int, text: str, error: Exception) -> None:
    key = (source, position)
    if key in _reported:
        return
    _reported[key] = None
    if len(_reported) > _MAX_REPORTED:
        _reported.popitem(last=False)
    reason = " ".join(str(error).split())[:300]
    log.warning(
        "skipping a malformed event of %s (ending at offset %s): %s; event: %.200s",
        source,
        format_offset(position),
        reason,
        text,
    )


def encode(events: Iterable[agui.AguiEvent]) -> bytes:
    return ("[" + ",".join(e.to_json() for e in events) + "]").encode("utf-8")


class StreamWriter:
    """Appends events to one stream in the order given, batching while a commit is busy.

    ``put`` waits only when ``max_pending`` events are waiting for the database (back
    pressure on a model faster than the disk), and only until they are taken into an
    append: the next batch is made while that one commits. ``drain`` waits until all are
    stored. A failed append is raised by the next ``put``/``drain``.
    """

    def __init__(self, engine: StreamEngine, path: str, *, max_pending: int = 4096) -> None:
        self.engine = engine
        self.path = path
        self.max_pending = max_pending
        self.last_position = 0
        self._pending: list[str] = []
        self._flusher: asyncio.Future[None] | None = None
        self._taken: asyncio.Future[None] | None = None  # a full ``put`` waits for it
        self._error: BaseException | None = None

    async def put(self, event: agui.AguiEvent) -> None:
        if self._error is not None:
            raise self._error
        self._pending.append(event.to_json())
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        elif len(self._pending) >= self.max_pending:
            # Until the flusher takes these events, not until it has stored everything:
            # waiting for the whole flush left the loop idle for every commit (on
            # PostgreSQL a sixth of a fast model's answer; BENCHMARKS.md, Chat).
            if self._taken is None or self._taken.done():  # done: its waiter was cancelled
                self._taken = asyncio.get_running_loop().create_future()
            await self._taken
            if self._error is not None:
                raise self._error

    async def put_all(self, events: Iterable[agui.AguiEvent]) -> None:
        for event in events:
            await self.put(event)

    async def drain(self) -> None:
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self._error is not None:
            raise self._error

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                self._release_producer()
                result = await self.engine.append_json_values(self.path, batch)
                self.last_position = result.info.tail
        except BaseException as exc:  # handed to the producer
            self._error = exc
            self._pending = []
        finally:
            self._flusher = None
            self._release_producer()

    def _release_producer(self) -> None:
        taken, self._taken = self._taken, None
        if taken is not None and not taken.done():
            taken.set_result(None)


async def ensure_stream(engine: StreamEngine, path: str) -> None:
    """Create the session's stream unless it exists. Looked up first: a lookup runs on the
    reader threads, while a create (even of an existing stream) queues on the one writer
    behind every append, and every client that follows a session passes here."""
    try:
        await engine.head(path)
    except StreamNotFoundError:
        await engine.create(path, content_type=JSON_CONTENT_TYPE)


async def read_all(engine: StreamEngine, path: str, after: int = 0) -> list[LoggedEvent]:
    """Every stored event after ``after`` (reads past the engine's chunk limit)."""
    out: list[LoggedEvent] = []
    position = after
    while True:
        result = await engine.read_at(path, position, use_cache=False)
        out.extend(decode(result.messages, position, source=path))
        if result.messages:
            position = result.messages[-1].end
        if result.up_to_date or not result.messages:
            return out


@dataclass
class RunRecord:
    run_id: str
    start: int  # position before its run.accepted marker
    accepted: dict[str, Any] = field(default_factory=dict)
    started: bool = False  # RUN_STARTED stored
    end: int | None = None  # position after its terminal event


class SessionLog:
    """A session's stream folded: the transcript, the runs, the events of the open run and
    the last ``RUN_FINISHED`` (not every event: a long session stays small in memory)."""

    def __init__(self, events: Sequence[LoggedEvent] = ()) -> None:
        self.transcript = Transcript()
        self.runs: dict[str, RunRecord] = {}
        self.open_run: RunRecord | None = None
        self.open_events: list[LoggedEvent] = []  # from the open run's marker on
        self.last_finished: LoggedEvent | None = None
        self.position = 0
        for event in events:
            self.apply(event)

    def apply(self, logged: LoggedEvent) -> None:
        event = logged.event()  # before any bookkeeping: a bad event changes nothing
        data = logged.data
        kind = logged.type
        if kind == "CUSTOM" and data.get("name") == RUN_ACCEPTED:
            value = data.get("value") or {}
            run = RunRecord(str(value.get("runId", "")), self.position, value)
            self.runs[run.run_id] = run
            self.open_run = run
            self.open_events = []
        elif kind == "RUN_STARTED" and self.open_run is not None:
            self.open_run.started = True
        if self.open_run is not None:
            self.open_events.append(logged)
        if kind in TERMINAL_TYPES and self.open_run is not None:
            self.open_run.end = logged.position
            self.open_run = None
            self.open_events = []
        if kind == "RUN_FINISHED":
            self.last_finished = logged
        self.transcript.apply(event)
        self.position = logged.position

"""Finishing a run the server was killed in the middle of.

The stream shows the run open (``run.accepted``, maybe ``RUN_STARTED`` and part of an
answer, no terminal event) and no task runs it. ``plan_recovery`` finds where the last
model turn of that run began; the service runs the loop again from there, with the history
as it was at that point, and ``ReplayFilter`` drops the re-run's events that are already
stored, so the transcript ends exactly as an uninterrupted run would have:

- Message ids are random per run, so the filter maps the re-run's ids onto the stored ones
  and compares events without timestamps. Tool calls whose results are stored are not run
  again: their stored results are replayed (``StoredResult``), so the CAD document is not
  edited twice.
- The scripted model is deterministic, so its re-run matches the stored prefix event for
  event and simply continues. A real model answers differently: at the first event that
  differs, the stored partial answer is closed as it stands (its open text message ended,
  its unfinished tool calls answered with an "interrupted by a server restart" error) and
  the new answer follows as new messages. The partial text stays in the transcript; the
  model does not see it as a prefix of its new answer.
- The run's tool-round counter goes on from the rounds stored before the recovered turn;
  token usage counts only what the re-run reported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..llm.tool_executor import error_text
from ..protocol import agui
from .event_log import LoggedEvent
from .in_process import StoredResult

RESTART_ERROR = "interrupted by a server restart"
_TURN_OPENERS = ("TEXT_MESSAGE_START", "TOOL_CALL_START")
_TURN_BOUNDARIES = ("RUN_STARTED", "TOOL_CALL_RESULT", "CUSTOM")


def failed_tool_result(message_id: str, tool_call_id: str, message: str) -> agui.ToolCallResult:
    """The result of a tool call that never completed, as the model and the UI read an error."""
    return agui.ToolCallResult(
        message_id=message_id,
        tool_call_id=tool_call_id,
        content=error_text(message),
        metadata={"solidtype": {"isError": True}},
    )


@dataclass
class RecoveryPlan:
    """``turn_index``: index in the run's events (marker first) where the re-run starts;
    ``stored``: the events from there on, which the re-run must reproduce first."""

    turn_index: int
    stored: list[LoggedEvent]
    stored_results: list[StoredResult]
    tool_rounds: int  # model turns of the run before it, each ended by a round of tools


def plan_recovery(run_events: Sequence[LoggedEvent]) -> RecoveryPlan:
    """Where to re-run an open run from. Without a model turn stored yet, from the start
    (the approvals it was resumed with are run again, except those already answered)."""
    turn_index: int | None = None
    turns = 0
    started = False
    for index, logged in enumerate(run_events):
        if logged.type == "RUN_STARTED":
            started = True
        if not started or logged.type not in _TURN_OPENERS:
            continue
        if logged.type == "TEXT_MESSAGE_START" and logged.data.get("role") != "assistant":
            continue
        previous = run_events[index - 1].type
        if previous in _TURN_BOUNDARIES:
            turn_index = index
            turns += 1
    start = 1 if turn_index is None else turn_index  # 1: after the run.accepted marker
    stored = list(run_events[start:])
    return RecoveryPlan(start, stored, stored_results(stored), max(0, turns - 1))


def stored_results(events: Sequence[LoggedEvent]) -> list[StoredResult]:
    names: dict[str, str] = {}
    args: dict[str, list[str]] = {}
    out: list[StoredResult] = []
    for logged in events:
        data = logged.data
        if logged.type == "TOOL_CALL_START":
            names[data["toolCallId"]] = data["toolCallName"]
            args[data["toolCallId"]] = []
        elif logged.type == "TOOL_CALL_ARGS" and data["toolCallId"] in args:
            args[data["toolCallId"]].append(data["delta"])
        elif logged.type == "TOOL_CALL_RESULT" and data["toolCallId"] in names:
            call_id = data["toolCallId"]
            try:
                parsed = json.loads("".join(args[call_id]) or "{}")
            except ValueError:
                continue
            if not isinstance(parsed, dict):
                continue
            is_error = bool(((data.get("metadata") or {}).get("solidtype") or {}).get("isError"))
            out.append(StoredResult(names[call_id], parsed, data["content"], is_error))
    return out


_ID_KEYS = ("messageId", "parentMessageId")


def _mapped(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, dict):
        return {k: _mapped(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_mapped(v, ids) for v in value]
    return value


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "timestamp"}


class ReplayFilter:
    """Feed it the re-run's events; it returns what to append to the stream."""

    def __init__(self, stored: Sequence[LoggedEvent], *, run_started: bool) -> None:
        self.stored = [logged.data for logged in stored]
        self.index = 0
        self.ids: dict[str, str] = {}
        self.run_started = run_started
        self.diverged = False

    def feed(self, event: agui.AguiEvent) -> list[agui.AguiEvent]:
        data = event.to_wire()
        if self.run_started and data["type"] == "RUN_STARTED":
            return []  # stored already, before the re-run's first turn
        if self.index < len(self.stored) and not self.diverged:
            expected = self.stored[self.index]
            if self._matches(data, expected):
                self.index += 1
                return []
            self.diverged = True
            closing = self._close_partial()
            self.ids = {}
            return [*closing, event]
        if not self.ids:
            return [event]
        return [agui.parse_event(_mapped(data, self.ids))]

    def _matches(self, data: dict[str, Any], expected: dict[str, Any]) -> bool:
        if data.get("type") != expected.get("type"):
            return False
        trial = dict(self.ids)
        for key in _ID_KEYS:
            if key in data and key in expected and data[key] not in trial:
                trial[data[key]] = expected[key]
        if _comparable(_mapped(data, trial)) != _comparable(expected):
            return False
        self.ids = trial
        return True

    def _close_partial(self) -> list[agui.AguiEvent]:
        """End what the stored part of the turn left open."""
        open_text: list[str] = []
        open_calls: list[tuple[str, str]] = []
        unanswered: list[tuple[str, str]] = []
        for data in self.stored:
            kind = data["type"]
            if kind == "TEXT_MESSAGE_START":
                open_text.append(data["messageId"])
            elif kind == "TEXT_MESSAGE_END" and data["messageId"] in open_text:
                open_text.remove(data["messageId"])
            elif kind == "TOOL_CALL_START":
                entry = (data["toolCallId"], data.get("parentMessageId") or "")
                open_calls.append(entry)
                unanswered.append(entry)
            elif kind == "TOOL_CALL_END":
                open_calls = [c for c in open_calls if c[0] != data["toolCallId"]]
            elif kind == "TOOL_CALL_RESULT":
                unanswered = [c for c in unanswered if c[0] != data["toolCallId"]]
        out: list[agui.AguiEvent] = [agui.TextMessageEnd(message_id=m) for m in open_text]
        out.extend(agui.ToolCallEnd(tool_call_id=call_id) for call_id, _ in open_calls)
        out.extend(
            failed_tool_result(parent, call_id, RESTART_ERROR) for call_id, parent in unanswered
        )
        return out

    def flush_unmatched(self) -> list[agui.AguiEvent]:
        """The re-run ended before reproducing all stored events: close the stored part."""
        if self.index < len(self.stored) and not self.diverged:
            self.diverged = True
            return self._close_partial()
        return []

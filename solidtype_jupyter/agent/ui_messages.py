"""The conversation in TanStack AI's ``UIMessage`` shape, which a client paints on hydrate.

``ChatClient`` (``@tanstack/ai-client`` 0.33) puts the ``messages`` of a hydrate answer
straight into its message list, so they must have the shape it builds from live events:
``{id, role, parts}`` with ``text``, ``tool-call`` (``arguments`` text, parsed ``input``,
``state``, ``approval`` while one is asked, ``output``) and ``tool-result`` parts; a tool
result belongs to the assistant message that made the call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..llm import PendingApproval
from ..protocol import agui


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def ui_messages(
    messages: Sequence[agui.Message], pending: Sequence[PendingApproval] = ()
) -> list[dict[str, Any]]:
    waiting = {p.tool_call_id: p for p in pending}
    out: list[dict[str, Any]] = []
    calls: dict[str, dict[str, Any]] = {}  # tool call id -> its part
    owner: dict[str, dict[str, Any]] = {}  # tool call id -> the message holding it
    for message in messages:
        if message.role == "tool":
            call_id = message.tool_call_id or ""
            content = message.content or ""
            holder = owner.get(call_id)
            if holder is None:
                holder = {"id": message.id or f"tool-{call_id}", "role": "assistant", "parts": []}
                out.append(holder)
            holder["parts"].append(
                {"type": "tool-result", "toolCallId": call_id, "content": content,
                 "state": "complete"}
            )  # fmt: skip
            answered = calls.get(call_id)
            if answered is not None:
                answered["state"] = "complete"
                answered["output"] = _parsed(content)
            continue
        if message.role not in ("user", "assistant", "system"):
            continue
        item: dict[str, Any] = {"id": message.id, "role": message.role, "parts": []}
        if message.content:
            item["parts"].append({"type": "text", "content": message.content})
        for ref in message.tool_calls or ():
            part: dict[str, Any] = {
                "type": "tool-call",
                "id": ref.id,
                "name": ref.function.name,
                "arguments": ref.function.arguments,
                "input": _parsed(ref.function.arguments),
                "state": "input-complete",
            }
            if ref.id in waiting:
                part["state"] = "approval-requested"
                part["approval"] = {"id": waiting[ref.id].interrupt_id, "needsApproval": True}
            item["parts"].append(part)
            calls[ref.id] = part
            owner[ref.id] = item
        out.append(item)
    return out

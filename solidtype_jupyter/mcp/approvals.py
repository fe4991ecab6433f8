"""Who approves a ``confirm`` tool called over MCP (``--approvals elicit|client|auto``).

- ``client`` (the default): the MCP client's own permission prompt decides, guided by the
  tools' annotations (``destructiveHint`` on every ``confirm`` tool); the server runs every
  call it receives.
- ``elicit``: in addition, a ``confirm`` tool asks the user through MCP elicitation when the
  client supports it; declined or cancelled, the call is a tool error and nothing changes. A
  client without elicitation falls back to ``client``.
- ``auto``: nothing is asked by the server (clients that approve everything themselves).

Elicitation works in both protocol eras: on a handshake-era connection the server sends an
``elicitation/create`` request during the call; on a 2026-07-28 connection, where servers
may not send requests, the call answers ``InputRequiredResult`` and the client retries it
with the answer. The retry carries an HMAC of the tool name and arguments (``request_state``)
so an answer is only ever taken for the call it was asked about.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import mcp_types as types

ApprovalPolicy = Literal["elicit", "client", "auto"]
APPROVAL_POLICIES: tuple[ApprovalPolicy, ...] = ("elicit", "client", "auto")

_ANSWER_KEY = "solidtype_approval"
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {
            "type": "boolean",
            "title": "Approve",
            "description": "Run this change on the CAD document",
        }
    },
    "required": ["approve"],
}
_KEY = secrets.token_bytes(32)  # per process: a state from another server is never taken


@dataclass(frozen=True)
class Verdict:
    approved: bool
    reason: str = ""


def _state(name: str, arguments: dict[str, Any]) -> str:
    payload = json.dumps([name, arguments], sort_keys=True, default=str).encode()
    return hmac.new(_KEY, payload, hashlib.sha256).hexdigest()


def question(name: str, arguments: dict[str, Any]) -> str:
    shown = json.dumps(arguments, sort_keys=True, default=str)
    if len(shown) > 500:
        shown = shown[:497] + "..."
    return f"The agent wants to run {name} on the CAD document with {shown}. Approve?"


def _verdict(answer: types.ElicitResult, name: str) -> Verdict:
    if answer.action == "accept" and (answer.content or {}).get("approve") is True:
        return Verdict(True)
    how = "declined" if answer.action != "cancel" else "cancelled"
    return Verdict(False, f"{name} was {how} by the user; nothing was changed")


def client_elicits(session: Any) -> bool:
    capability = types.ClientCapabilities(elicitation=types.ElicitationCapability())
    return bool(session.check_client_capability(capability))


async def approve(
    ctx: Any,
    params: types.CallToolRequestParams,
    level: str,
    policy: ApprovalPolicy,
) -> Verdict | types.InputRequiredResult:
    """Whether the call in ``params`` may run: a ``Verdict``, or (2026-07-28 connections) the
    ``InputRequiredResult`` that asks the client for the user's answer first."""
    if policy != "elicit" or level != "confirm" or not client_elicits(ctx.session):
        return Verdict(True)
    name, arguments = params.name, dict(params.arguments or {})
    responses = params.input_responses or {}
    if _ANSWER_KEY in responses:
        if not hmac.compare_digest(params.request_state or "", _state(name, arguments)):
            return Verdict(False, f"the approval answer does not belong to this {name} call")
        answer = responses[_ANSWER_KEY]
        if not isinstance(answer, types.ElicitResult):
            return Verdict(False, f"the approval of {name} was not answered")
        return _verdict(answer, name)
    if ctx.session.can_send_request:
        answer = await ctx.session.elicit_form(
            question(name, arguments), _SCHEMA, related_request_id=ctx.request_id
        )
        return _verdict(answer, name)
    return types.InputRequiredResult(
        input_requests={
            _ANSWER_KEY: types.ElicitRequest(
                params=types.ElicitRequestFormParams(
                    message=question(name, arguments), requested_schema=_SCHEMA
                )
            )
        },
        request_state=_state(name, arguments),
    )

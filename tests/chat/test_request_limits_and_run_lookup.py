"""Chat requests are bounded (413 before anything is stored), and the run-id lookup does not
tell one user about another's runs: a real jupyter_server, two users, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from solidtype_jupyter.streams import StreamNotFoundError

from .conftest import ALICE, BOB, extension, write_script
from .test_chat_routes import stored_events
from .test_stream_route_security import raw_request

MAX_MESSAGES = 5
MAX_BYTES = 300_000


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    # The message length keeps its default (100,000 characters); the other two are lowered
    # so the test need not send megabytes.
    jp_server_config["SolidTypeApp"].update(
        max_messages_per_request=MAX_MESSAGES, max_chat_request_bytes=MAX_BYTES
    )
    return jp_server_config


def _body(session_id: str, messages: list[dict[str, Any]]) -> str:
    return json.dumps(
        {"threadId": session_id, "runId": f"run-{uuid.uuid4().hex[:8]}", "messages": messages}
    )


def _user(text: str) -> dict[str, Any]:
    return {"id": f"u-{uuid.uuid4().hex[:8]}", "role": "user", "content": text}


async def test_oversized_chat_requests_are_413_and_nothing_is_stored(chat, jp_serverapp):
    session_id = await chat.session(ALICE)
    too_long = _body(session_id, [_user("x" * 100_001)])
    too_many = _body(session_id, [_user(f"m{i}") for i in range(MAX_MESSAGES + 1)])
    too_big = _body(session_id, [_user("y" * 70_000)] * MAX_MESSAGES)  # each one allowed
    for raw, says in [
        (too_long, "max_chat_message_chars"),
        (too_many, "max_messages_per_request"),
        (too_big, "max_chat_request_bytes"),
    ]:
        code, _, body = await chat.call(ALICE, "POST", "chat", raw=raw)
        assert code == 413, (says, code, body)
        assert says in body["message"], body
    with pytest.raises(StreamNotFoundError):  # not even created
        await stored_events(jp_serverapp, session_id)
    _, _, session = await chat.call(ALICE, "GET", "sessions", session_id)
    assert session["messageCount"] == 0 and session["title"] == "New Chat"
    # At the limits the turn goes through.
    code, frames = await chat.turn(ALICE, session_id, "x" * 100_000)
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames[-1]


async def test_a_declared_oversized_chat_body_is_refused_before_it_is_sent(
    chat, jp_serverapp, jp_base_url, jp_auth_header, jp_http_port
):
    """The 413 comes from the headers: a route that let tornado read the body first (up to
    jupyter_server's max_body_size, 512 MB) would wait here for 100 MB that never come."""
    limit = 1024  # read live: a chunked body passes 16 times it in a few small chunks
    extension(jp_serverapp).max_chat_request_bytes = limit
    url = f"{jp_base_url.rstrip('/')}/solidtype/api/ai/chat"
    auth = "".join(f"{k}: {v}\r\n" for k, v in jp_auth_header.items())
    head = (
        f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}"
        f"X-Test-User: {ALICE}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n"
    )
    status, message, _ = await asyncio.to_thread(raw_request, jp_http_port, head)
    assert status == 413 and f"at most {limit} bytes" in message, (status, message)
    # A chunked body is cut off as it passes 16 times the limit.
    chunked = head.replace(f"Content-Length: {100 * 1024 * 1024}", "Transfer-Encoding: chunked")
    status, message, sent = await asyncio.to_thread(raw_request, jp_http_port, chunked, 200)
    assert status == 413 and "max_chat_request_bytes" in message, (status, message)
    assert sent <= 16 * limit // 2000 + 2, sent


async def test_the_run_id_lookup_answers_another_users_run_as_an_unknown_one(
    chat, jp_serverapp, script_path: Path
):
    write_script(script_path, {"text": ["word "], "repeat": 2000, "delay_ms": 5})
    alices = await chat.session(ALICE)
    answer = asyncio.ensure_future(chat.turn(ALICE, alices, "talk a lot", run_id="run-alice"))
    service = extension(jp_serverapp).chat
    for _ in range(500):
        if any(r.run_id == "run-alice" for r in service.live_runs()):
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("alice's run never started")
    try:
        # Alice finds her own run by its id alone.
        code, _, hydrated = await chat.call(ALICE, "GET", "chat", params={"runId": "run-alice"})
        assert code == 200 and hydrated["activeRun"] == {"runId": "run-alice"}
        # Bob gets exactly what a run nobody has would give him.
        code, content_type, theirs = await chat.call(
            BOB, "GET", "chat", params={"runId": "run-alice"}
        )
        unknown_code, unknown_type, unknown = await chat.call(
            BOB, "GET", "chat", params={"runId": "run-nobody"}
        )
        assert (code, content_type) == (unknown_code, unknown_type) == (404, content_type)
        assert theirs == json.loads(json.dumps(unknown).replace("run-nobody", "run-alice"))
        assert alices not in json.dumps(theirs)
        code, _, theirs = await chat.call(
            BOB, "GET", "chat", params={"runId": "run-alice", "offset": "-1"}
        )
        assert code == 404 and alices not in json.dumps(theirs)
    finally:
        await chat.call(ALICE, "POST", "session", alices, "cancel")
        await answer

"""The Durable Streams route and chat streams attacked by a second user and by bad input, in a
real jupyter_server with two users, on SQLite and PostgreSQL (issue 19, findings 1, 7, 9).
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import socket
import uuid
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from solidtype_jupyter.streams import format_offset

from .conftest import ALICE, BOB, ChatClient, extension, write_script

JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}
SECRET = "alice's secret prompt: the launch code is 0000"


class Streams:
    """``{base}solidtype/v1/stream/<path>`` as one of the test users."""

    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch

    async def __call__(
        self,
        user: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {
            "method": method,
            "headers": {"X-Test-User": user, **(headers or {})},
            "params": params,
        }
        if body is not None or method in ("POST", "PUT"):
            kwargs["body"] = body or b""
        try:
            return await self.fetch("solidtype", "v1", "stream", *path.split("/"), **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            return exc.response


@pytest.fixture
def streams(jp_fetch) -> Streams:
    return Streams(jp_fetch)


async def alice_with_a_secret(chat: ChatClient, script_path: Any) -> str:
    write_script(script_path, {"text": "Noted, Alice."})
    session_id = await chat.session(ALICE)
    code, frames = await chat.turn(ALICE, session_id, SECRET)
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED"
    return session_id


def body_text(response: Any) -> str:
    return response.body.decode() if response.body else ""


# --- finding 1: Stream-Forked-From is a read of the source ---------------------------------


async def test_a_fork_of_another_users_chat_is_refused(
    chat: ChatClient, streams: Streams, jp_serverapp, script_path
):
    alice_session = await alice_with_a_secret(chat, script_path)
    bob_session = await chat.session(BOB)
    forked = await streams(
        BOB,
        "PUT",
        f"ai-chat/{bob_session}",
        headers={**JSON, "Stream-Forked-From": f"ai-chat/{alice_session}"},
    )
    assert forked.code != 201, body_text(forked)
    read = await streams(BOB, "GET", f"ai-chat/{bob_session}", params={"offset": "-1"})
    assert SECRET not in body_text(read)
    code, _, hydrated = await chat.call(BOB, "GET", "chat", params={"threadId": bob_session})
    assert code == 200 and SECRET not in json.dumps(hydrated)


async def test_an_unreadable_fork_source_answers_as_a_missing_one(
    chat: ChatClient, streams: Streams, jp_serverapp, jp_base_url, script_path
):
    """Into a stream bob may write (his document's): every way to name alice's chat or
    document answers exactly as a source that does not exist, and nothing is created."""
    app = extension(jp_serverapp)
    alice_session = await alice_with_a_secret(chat, script_path)
    alice_document = await app.catalog.create_document(ALICE, "secret-plate")
    engine = await app.started_stream_engine()
    await engine.create(
        f"documents/{alice_document.id}", content_type="text/plain", data=SECRET.encode()
    )
    bob_document = await app.catalog.create_document(BOB, "plate")
    target = f"documents/{bob_document.id}"
    mount = f"{jp_base_url.rstrip('/')}/solidtype/v1/stream"
    cases = [
        (f"ai-chat/{alice_session}", f"ai-chat/{uuid.uuid4()}"),
        (f"documents/{alice_document.id}", f"documents/{uuid.uuid4()}"),
        (f"{mount}/ai-chat/{alice_session}", f"{mount}/ai-chat/{uuid.uuid4()}"),
        (f"/v1/stream/ai-chat/{alice_session}", f"/v1/stream/ai-chat/{uuid.uuid4()}"),
    ]
    # Headers whose answer would tell an existing source from a missing one: its content
    # type, its length (fork offsets), its first message (sub-offset).
    variants: list[dict[str, str]] = [
        JSON,
        TEXT,
        {**JSON, "Stream-Fork-Offset": format_offset(10**9)},
        {**JSON, "Stream-Fork-Offset": format_offset(0), "Stream-Fork-Sub-Offset": "1"},
        {**TEXT, "Stream-Fork-Offset": format_offset(1), "Stream-Fork-Sub-Offset": "99"},
    ]
    for alices, missing in cases:
        for headers in variants:
            answers = []
            for source in (alices, missing):
                response = await streams(
                    BOB, "PUT", target, headers={**headers, "Stream-Forked-From": source}
                )
                name = source.rsplit("/", 2)[-2] + "/" + source.rsplit("/", 1)[-1]
                answers.append(
                    (
                        response.code,
                        body_text(response).replace(name, "<source>"),
                        response.headers.get("Content-Type"),
                    )
                )
            assert answers[0] == answers[1], (alices, headers, answers)
            assert answers[0][0] == 404, answers
            head = await streams(BOB, "HEAD", target)
            assert head.code == 404, (alices, headers)
    # The check is a read of the source: bob forks his own chat into his document.
    bob_session = await chat.session(BOB)
    write_script(script_path, {"text": "Hi Bob."})
    code, _ = await chat.turn(BOB, bob_session, "hello, this is bob")
    assert code == 200
    own = await streams(
        BOB, "PUT", target, headers={**JSON, "Stream-Forked-From": f"ai-chat/{bob_session}"}
    )
    assert own.code == 201, body_text(own)
    read = await streams(BOB, "GET", target, params={"offset": "-1"})
    assert "hello, this is bob" in body_text(read) and SECRET not in body_text(read)


# --- finding 7: chat streams are the server's; a malformed event is skipped ----------------


async def test_clients_read_but_never_write_chat_streams(
    chat: ChatClient, streams: Streams, jp_serverapp, script_path
):
    session_id = await alice_with_a_secret(chat, script_path)
    path = f"ai-chat/{session_id}"
    engine = await extension(jp_serverapp).started_stream_engine()
    before = (await engine.head(path)).next_offset
    for method, body in (
        ("POST", b"5"),
        ("POST", b'{"type":"NOPE"}'),
        ("POST", b'{"type":"RUN_FINISHED"}'),
        ("PUT", b""),
        ("DELETE", None),
    ):
        response = await streams(ALICE, method, path, body=body, headers=JSON)
        assert response.code == 403, (method, body_text(response))
        assert "written by the server" in body_text(response), body_text(response)
    # A new session's stream (not created yet) cannot be made by a client either.
    fresh = await chat.session(ALICE)
    created = await streams(ALICE, "PUT", f"ai-chat/{fresh}", headers=JSON)
    assert created.code == 403
    assert (await engine.head(path)).next_offset == before
    read = await streams(ALICE, "GET", path, params={"offset": "-1"})
    assert read.code == 200 and SECRET in body_text(read)
    head = await streams(ALICE, "HEAD", path)
    assert head.code == 200
    write_script(script_path, {"text": "Still here."})
    code, frames = await chat.turn(ALICE, session_id, "and now?")
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED"


BAD_EVENTS = [
    b"5",
    b'"text"',
    b"[1,[2]]",
    b'{"type":"NOPE"}',
    b'{"type":"RUN_FINISHED"}',
    b'{"type":"TEXT_MESSAGE_CONTENT","messageId":7}',
    b'{"type":"CUSTOM","name":"run.accepted","value":5}',
    b'{"type":"CUSTOM","name":"run.accepted","value":{"runId":"r","resume":[{"x":1}]}}',
]


async def test_malformed_events_in_a_chat_stream_are_skipped(
    chat: ChatClient, jp_serverapp, script_path, caplog
):
    """Bad events written past the route (an older server, another tool with database
    access) cost a warning each, never the session."""
    session_id = await alice_with_a_secret(chat, script_path)
    path = f"ai-chat/{session_id}"
    engine = await extension(jp_serverapp).started_stream_engine()
    for bad in BAD_EVENTS:
        await engine.append(path, bad, content_type="application/json")
    with caplog.at_level(logging.WARNING, logger="solidtype_jupyter"):
        code, _, hydrated = await chat.call(ALICE, "GET", "chat", params={"threadId": session_id})
        assert code == 200, hydrated
        texts = [p.get("content") for m in hydrated["messages"] for p in m["parts"]]
        assert texts == [SECRET, "Noted, Alice."]
        assert hydrated["activeRun"] is None
        params = {"view": "transcript"}
        code, _, page = await chat.call(ALICE, "GET", "session", session_id, params=params)
        assert code == 200 and page["total"] == 2, page
        code, _, events = await chat.call(
            ALICE, "GET", "session", session_id, params={"offset": "-1"}
        )
        assert code == 200
        assert all(isinstance(e["event"], dict) for e in events["events"])
        assert "NOPE" not in json.dumps(events)
        write_script(script_path, {"text": "Still answering."})
        code, frames = await chat.turn(ALICE, session_id, "one more turn")
        assert code == 200, frames
        assert frames[-1][1]["type"] == "RUN_FINISHED" and frames[-1][1].get("runId")
        # The model was sent the whole valid history.
        code, _, hydrated = await chat.call(ALICE, "GET", "session", session_id)
        assert [m["role"] for m in hydrated["messages"]] == ["user", "assistant"] * 2
        # Resuming from the start replays the stored events without the bad ones.
        code, replay = await chat.turn(
            ALICE, session_id, headers={"Last-Event-ID": format_offset(0)}
        )
        assert code == 200 and all(event.get("type") != "NOPE" for _, event in replay)
    warnings = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert warnings and path in warnings[0].getMessage()


# --- finding 9: a bounded stream append -----------------------------------------------------


def raw_request(
    port: int, head: str, chunks: int = 0, *, end: bool = False, chunk: bytes = b"z" * 2000
) -> tuple[int, str, int]:
    """Send ``head``, then up to ``chunks`` chunks of a chunked body one at a time, each
    once the server has had time to answer the one before, and (``end``) the last chunk;
    the status and body of the answer, and how many chunks were sent. (Stopping as soon as
    it answers keeps its socket free of unread data, so it closes cleanly and the answer is
    not lost to a reset.)"""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        sent = 0
        for _ in range(chunks):
            if select.select([sock], [], [], 0.2)[0]:
                break
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += 1
        if end and not select.select([sock], [], [], 0.2)[0]:
            sock.sendall(b"0\r\n\r\n")
        answer = b""
        while data := sock.recv(65536):
            answer += data
    status_line, _, rest = answer.decode("utf-8", "replace").partition("\r\n")
    return int(status_line.split()[1]), rest.partition("\r\n\r\n")[2], sent


async def test_stream_appends_are_bounded(
    chat: ChatClient, streams: Streams, jp_serverapp, jp_base_url, jp_auth_header, jp_http_port
):
    app = extension(jp_serverapp)
    assert app.max_stream_append_bytes == 4 * 1024 * 1024
    limit = 1024
    app.max_stream_append_bytes = limit
    document = await app.catalog.create_document(ALICE, "plate")
    path = f"documents/{document.id}"
    engine = await app.started_stream_engine()
    too_big = await streams(ALICE, "PUT", path, body=b"x" * (limit + 1), headers=TEXT)
    assert too_big.code == 413 and "max_stream_append_bytes" in body_text(too_big)
    assert (await streams(ALICE, "HEAD", path)).code == 404
    created = await streams(ALICE, "PUT", path, body=b"x" * limit, headers=TEXT)
    assert created.code == 201
    refused = await streams(ALICE, "POST", path, body=b"y" * (limit + 1), headers=TEXT)
    assert refused.code == 413 and f"{limit} bytes" in body_text(refused)
    accepted = await streams(ALICE, "POST", path, body=b"y" * limit, headers=TEXT)
    assert accepted.code == 204
    tail = (await engine.head(path)).tail
    assert tail == 2 * limit

    url = f"{jp_base_url.rstrip('/')}/solidtype/v1/stream/{path}"
    auth = "".join(f"{k}: {v}\r\n" for k, v in jp_auth_header.items())
    # A declared 100 MB body is refused from its headers: none of it is sent.
    head = (
        f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}"
        f"X-Test-User: {ALICE}\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n"
    )
    status, message, _ = await asyncio.to_thread(raw_request, jp_http_port, head)
    assert status == 413 and "max_stream_append_bytes" in message
    # So is a small one whose client waits for "100 Continue".
    continued = head.replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n").replace(
        str(100 * 1024 * 1024), str(limit + 1)
    )
    status, message, _ = await asyncio.to_thread(raw_request, jp_http_port, continued)
    assert status == 413 and "max_stream_append_bytes" in message
    # A chunked body past the limit is read and dropped, then refused, while it stays
    # small; past 16 times the limit it is cut off as it arrives.
    head = (
        f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}"
        f"X-Test-User: {ALICE}\r\n"
        "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    status, message, _ = await asyncio.to_thread(raw_request, jp_http_port, head, 2, end=True)
    assert status == 413 and "max_stream_append_bytes" in message
    status, message, sent = await asyncio.to_thread(raw_request, jp_http_port, head, 200)
    assert status == 413 and "max_stream_append_bytes" in message
    assert sent <= 16 * limit // 2000 + 2, sent
    assert (await engine.head(path)).tail == tail
    # Another user's oversized write gets no further than the size check either.
    status, _, _ = await asyncio.to_thread(raw_request, jp_http_port, head.replace(ALICE, BOB), 200)
    assert status in (403, 413)
    assert (await engine.head(path)).tail == tail


async def test_an_oversized_append_sent_whole_reads_its_413(
    streams: Streams, jp_serverapp, jp_base_url, jp_auth_header, jp_http_port
):
    """Most clients (the conformance suite's fetch) send the whole body before they read
    the answer: a 10 MB append must come back as a 413, not as a connection reset."""
    app = extension(jp_serverapp)
    document = await app.catalog.create_document(ALICE, "plate")
    path = f"documents/{document.id}"
    assert (await streams(ALICE, "PUT", path, headers=TEXT)).code == 201
    engine = await app.started_stream_engine()
    url = f"{jp_base_url.rstrip('/')}/solidtype/v1/stream/{path}"
    auth = "".join(f"{k}: {v}\r\n" for k, v in jp_auth_header.items())
    size = 10 * 1024 * 1024
    request = (
        f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}"
        f"X-Test-User: {ALICE}\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n\r\n"
    ).encode() + b"x" * size

    def send_whole() -> bytes:
        with socket.create_connection(("127.0.0.1", jp_http_port), timeout=30) as sock:
            sock.sendall(request)
            answer = b""
            while data := sock.recv(65536):
                answer += data
            return answer

    answer = (await asyncio.to_thread(send_whole)).decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert f"at most {app.max_stream_append_bytes} bytes" in answer
    assert (await engine.head(path)).tail == 0

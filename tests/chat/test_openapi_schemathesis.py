"""Schemathesis against every operation of the published OpenAPI document, on a real
jupyter_server with the extension (scripted model, so chat turns end by themselves).

The run uses Schemathesis's engine (the one its CLI drives) with every check enabled: no
5xx, answers that match the schema (status, content type, body, headers), schema-valid
requests accepted and invalid ones refused, and 405s that say which methods are allowed.
Examples are bounded so the whole run stays under about a minute.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as st_events
from tornado.httpclient import HTTPClientError

from solidtype_jupyter.server.openapi import openapi_document

from .conftest import ALICE

MAX_EXAMPLES = 8


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    # The routes' storage is tested on both databases elsewhere; here the schema is the subject.
    return sqlite_url


def _run(document: dict[str, Any], base_url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Runs the engine (blocking: call it in a thread) and sums up what it found."""
    config = schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "headers": headers,
            "request-timeout": 30,
            "max-stream-events": 200,
            "checks": {"enabled": True},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            # Examples, coverage (boundaries, every undeclared method) and fuzzing. Random
            # ids rarely name a session: the answers to real ones are checked below.
            "phases": {"stateful": {"enabled": False}},
            # These take one of two query parameters (threadId or runId; path or
            # session), which OpenAPI cannot say of query parameters: neither is a 422.
            "operations": [
                {
                    "include-operation-id": operation,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "403", "404", "409", "422"]
                        }
                    },
                }
                for operation in ("chatHydrate", "renderDocument", "tessellateDocument")
            ],
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    failures: list[str] = []
    errors: list[str] = []
    cases: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for event in from_schema(schema).execute():
        if isinstance(event, st_events.ScenarioFinished):
            recorder = event.recorder
            cases[event.phase.value] += len(recorder.cases)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    statuses[f"{recorder.label} {interaction.response.status_code}"] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status != Status.FAILURE or check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    interaction = recorder.interactions.get(case_id)
                    request = interaction.request if interaction else None
                    response = interaction.response if interaction else None
                    failures.append(
                        f"{recorder.label} [{check.name}] {failure.title}: {failure.message}\n"
                        f"  request: {request.method if request else ''} "
                        f"{request.uri if request else ''} body={_short(request)}\n"
                        f"  response: {response.status_code if response else ''} "
                        f"{_short(response)}"
                    )
        elif isinstance(event, st_events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, st_events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    return {"failures": failures, "errors": errors, "cases": cases, "statuses": statuses}


def _short(message: Any) -> str:
    body = getattr(message, "body", None) if message is not None else None
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return text[:300]


async def test_every_operation_conforms_to_the_published_schema(
    chat, jp_fetch, jp_http_port, jp_base_url, jp_auth_header
):
    # A session of the token's user, so the session routes also answer 200 now and then.
    response = await jp_fetch("solidtype", "api", "openapi.json")
    document = json.loads(response.body)
    assert document == {**openapi_document(), "servers": document["servers"]}
    base_url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}/solidtype/api"
    headers = {**jp_auth_header, "X-Test-User": ALICE}
    await chat.session(ALICE)
    summary = await asyncio.wait_for(
        asyncio.to_thread(_run, document, base_url, headers), timeout=240
    )
    assert summary["cases"].total() > 100, summary
    assert not summary["errors"], "\n".join(summary["errors"])
    assert not summary["failures"], "\n\n".join(summary["failures"][:30])


async def test_a_body_is_required_and_405_says_what_is_allowed(chat):
    session_id = await chat.session(ALICE)
    code, _, body = await chat.call(ALICE, "PATCH", "sessions", session_id, raw="")
    assert code == 422 and "body is required" in body["message"], body
    _, _, session = await chat.call(ALICE, "GET", "sessions", session_id)
    assert session["title"] == "New Chat"
    for path, allowed in [
        (("sessions", session_id), {"GET", "PATCH", "DELETE", "OPTIONS"}),
        (("session", session_id, "cancel"), {"POST", "OPTIONS"}),
        (("chat",), {"GET", "POST", "OPTIONS"}),
    ]:
        try:
            response = await chat.fetch(
                "solidtype",
                "api",
                "ai",
                *path,
                method="PUT",
                body="{}",
                headers={"X-Test-User": ALICE},
            )
        except HTTPClientError as exc:
            response = exc.response
        assert response.code == 405
        assert set(response.headers["Allow"].split(", ")) == allowed, path


def _validate_answers(document: dict[str, Any], base_url: str, headers: dict[str, str]) -> int:
    """Real answers of a real session, each validated against its operation (blocking)."""
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    session.headers.update(headers)

    def call(method: str, path: str, template: str, **kwargs: Any) -> requests.Response:
        response = session.request(method, base_url + path, timeout=60, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        schema[template][method].validate_response(response)
        return response

    created = call("POST", "/ai/sessions", "/ai/sessions", json={"context": "dashboard"}).json()
    sid = created["id"]
    one = "/ai/sessions/{session_id}"
    events = "/ai/session/{session_id}"
    turn = {"threadId": sid, "runId": "run-1", "messages": [{"role": "user", "content": "Hi"}]}
    answers = [
        call("GET", "/health", "/health"),
        call("GET", "/ai/sessions", "/ai/sessions"),
        call("GET", f"/ai/sessions/{sid}", one),
        call("PATCH", f"/ai/sessions/{sid}", one, json={"title": "Plate"}),
        call("POST", "/ai/chat", "/ai/chat", json=turn),
        call("GET", "/ai/chat", "/ai/chat", params={"threadId": sid}),
        call("GET", "/ai/chat", "/ai/chat", params={"threadId": sid, "offset": "-1"}),
        call("GET", f"/ai/session/{sid}", events),
        call("GET", f"/ai/session/{sid}", events, params={"offset": "-1"}),
        call("GET", f"/ai/session/{sid}", events, params={"offset": "-1", "live": "long-poll"}),
        call("GET", f"/ai/session/{sid}", events, params={"offset": "-1", "live": "sse"}),
        call("GET", f"/ai/session/{sid}", events, params={"view": "transcript", "limit": "1"}),
        call("POST", f"/ai/sessions/{sid}/archive", f"{one}/archive"),
        call("DELETE", f"/ai/sessions/{sid}", one),
    ]
    assert "RUN_FINISHED" in answers[4].text and answers[4].headers["Content-Type"].startswith(
        "text/event-stream"
    )
    return len(answers)


async def test_real_answers_match_the_schema(chat, jp_http_port, jp_base_url, jp_auth_header):
    base_url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}/solidtype/api"
    headers = {**jp_auth_header, "X-Test-User": ALICE}
    checked = await asyncio.to_thread(_validate_answers, openapi_document(), base_url, headers)
    assert checked == 14

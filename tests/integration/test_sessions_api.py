"""The session routes in a real jupyter_server, on SQLite and on PostgreSQL, with two users.

The server authenticates with its token as usual; ``HeaderIdentityProvider`` then names the
user from an ``X-Test-User`` header, so one server sees two identities (like a server behind
JupyterHub's or another identity provider's login).
"""

from __future__ import annotations

import inspect
import json
import uuid
from typing import Any

import pytest
from jupyter_server.auth.identity import PasswordIdentityProvider, User
from openapi_spec_validator import validate
from tornado.httpclient import HTTPClientError

from solidtype_jupyter.protocol.sessions import TITLE_MAX_LENGTH
from solidtype_jupyter.store import backend_name, upgrade_schema
from solidtype_jupyter.streams import StreamNotFoundError

ALICE, BOB = "alice", "bob"


class HeaderIdentityProvider(PasswordIdentityProvider):
    """Token authentication as usual; the user is then the one the test header names."""

    async def get_user(self, handler: Any) -> User | None:
        user = super().get_user(handler)
        if inspect.isawaitable(user):
            user = await user
        name = handler.request.headers.get("X-Test-User")
        if user is None or not name:
            return user
        return User(username=name, name=name)


@pytest.fixture
def jp_server_config(database_url: str) -> dict[str, Any]:
    if backend_name(database_url) == "postgresql":
        # The server refuses a PostgreSQL schema that is behind (tested in
        # test_schema_startup.py); an embedded SQLite file it upgrades itself.
        upgrade_schema(database_url)
    return {
        "ServerApp": {
            "jpserver_extensions": {"solidtype_jupyter": True},
            "identity_provider_class": HeaderIdentityProvider,
        },
        "SolidTypeApp": {"database_url": database_url},
    }


@pytest.fixture
def api(jp_fetch):
    """``await api(user, method, *path, body=..., params=...)`` -> (status, JSON or None)."""

    async def call(
        user: str,
        method: str,
        *path: str,
        body: Any = None,
        raw_body: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "headers": {"X-Test-User": user}}
        if raw_body is not None:
            kwargs["body"] = raw_body
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PATCH"):
            kwargs["body"] = ""
        try:
            response = await jp_fetch(
                "solidtype", "api", "ai", "sessions", *path, params=params, **kwargs
            )
        except HTTPClientError as exc:
            assert exc.response is not None
            response = exc.response
        text = response.body.decode() if response.body else ""
        return response.code, (json.loads(text) if text else None)

    return call


def _extension(jp_serverapp: Any) -> Any:
    return jp_serverapp.extension_manager.extension_points["solidtype"].app


async def test_create_get_list_rename_archive_delete(api, jp_serverapp):
    status, created = await api(ALICE, "POST", body={"context": "editor"})
    assert status == 201, created
    session_id = created["id"]
    assert created["userId"] == ALICE
    assert created["title"] == "New Chat"
    assert created["status"] == "active"
    assert created["messageCount"] == 0
    assert created["durableStreamId"] == f"ai-chat/{session_id}"
    assert created["createdAt"].endswith("Z") or created["createdAt"].endswith("+00:00")

    status, fetched = await api(ALICE, "GET", session_id)
    assert (status, fetched) == (200, created)

    status, second = await api(ALICE, "POST", body={"context": "dashboard", "title": "Ideas"})
    assert status == 201 and second["title"] == "Ideas"
    status, listed = await api(ALICE, "GET")
    assert status == 200
    assert [s["id"] for s in listed["sessions"]] == [second["id"], session_id]
    status, listed = await api(ALICE, "GET", params={"context": "editor", "limit": "5"})
    assert [s["id"] for s in listed["sessions"]] == [session_id]

    status, renamed = await api(ALICE, "PATCH", session_id, body={"title": "Corner plate"})
    assert status == 200 and renamed["title"] == "Corner plate"
    status, listed = await api(ALICE, "GET", params={"limit": "1"})
    assert [s["id"] for s in listed["sessions"]] == [session_id]  # touched: now the newest

    status, archived = await api(ALICE, "POST", session_id, "archive")
    assert status == 200 and archived["status"] == "archived"
    status, active = await api(ALICE, "PATCH", session_id, body={"status": "active"})
    assert status == 200 and active["status"] == "active"

    status, body = await api(ALICE, "DELETE", session_id)
    assert (status, body) == (204, None)
    status, body = await api(ALICE, "GET", session_id)
    assert status == 404 and session_id in body["message"]


async def test_users_cannot_reach_each_others_sessions(api):
    _, mine = await api(ALICE, "POST", body={"context": "editor", "title": "alice's"})
    _, theirs = await api(BOB, "POST", body={"context": "editor", "title": "bob's"})
    status, listed = await api(BOB, "GET")
    assert status == 200 and [s["id"] for s in listed["sessions"]] == [theirs["id"]]

    attempts = [
        ("GET", (mine["id"],), None),
        ("PATCH", (mine["id"],), {"title": "pwned"}),
        ("PATCH", (mine["id"],), {"status": "archived"}),
        ("POST", (mine["id"], "archive"), None),
        ("DELETE", (mine["id"],), None),
    ]
    for method, path, body in attempts:
        status, answer = await api(BOB, method, *path, body=body)
        # The same answer as for an id that does not exist: nothing to probe.
        assert status == 404, (method, path, answer)
        missing = str(uuid.uuid4())
        status_missing, _ = await api(BOB, method, missing, *path[1:], body=body)
        assert status_missing == 404

    status, unchanged = await api(ALICE, "GET", mine["id"])
    assert status == 200
    assert unchanged["title"] == "alice's" and unchanged["status"] == "active"


@pytest.mark.parametrize(
    ("method", "path", "body", "params", "expected"),
    [
        ("GET", ("not-a-uuid",), None, None, 400),
        ("PATCH", ("123",), {"title": "x"}, None, 400),
        ("DELETE", ("zzz",), None, None, 400),
        ("POST", ("nope", "archive"), None, None, 400),
        ("POST", (), {"context": "editor", "userId": "bob"}, None, 422),
        ("POST", (), {"context": "kitchen"}, None, 422),
        ("POST", (), {}, None, 422),
        ("POST", (), {"context": "editor", "title": "x" * (TITLE_MAX_LENGTH + 1)}, None, 422),
        ("POST", (), {"context": "editor", "title": "   "}, None, 422),
        ("POST", (), {"context": "editor", "documentId": "not-a-uuid"}, None, 422),
        ("POST", (), [1, 2], None, 422),
        ("GET", (), None, {"context": "kitchen"}, 422),
        ("GET", (), None, {"limit": "0"}, 422),
        ("GET", (), None, {"limit": "1000"}, 422),
        ("GET", (), None, {"limit": "ten"}, 422),
        ("GET", (), None, {"userId": "bob"}, 422),
    ],
)
async def test_bad_input_is_a_clear_4xx(api, method, path, body, params, expected):
    status, answer = await api(ALICE, method, *path, body=body, params=params)
    assert status == expected, answer
    assert answer["message"]


async def test_bad_updates_and_bodies_are_4xx(api):
    _, session = await api(ALICE, "POST", body={"context": "editor"})
    for body in (
        {"status": "deleted"},
        {"title": "x" * (TITLE_MAX_LENGTH + 1)},
        {"messageCount": 99},
        {"userId": BOB},
    ):
        status, answer = await api(ALICE, "PATCH", session["id"], body=body)
        assert status == 422, (body, answer)
        assert answer["errors"], answer
    status, answer = await api(ALICE, "POST", raw_body="{not json")
    assert status == 422 and answer["message"]
    # The owner was never changed by any of that.
    _, unchanged = await api(ALICE, "GET", session["id"])
    assert unchanged["userId"] == ALICE and unchanged["messageCount"] == 0


async def test_routes_require_authentication(jp_fetch):
    for method, body in (("GET", None), ("POST", json.dumps({"context": "editor"}))):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(
                "solidtype",
                "api",
                "ai",
                "sessions",
                method=method,
                body=body,
                headers={"Authorization": ""},
            )
        assert info.value.code == 403


async def test_sessions_can_only_point_at_the_users_own_documents(api, jp_serverapp):
    catalog = _extension(jp_serverapp).catalog
    document = await catalog.register_document(ALICE, "parts/plate.solid.json")
    status, session = await api(
        ALICE, "POST", body={"context": "editor", "documentId": str(document.id)}
    )
    assert status == 201 and session["documentId"] == str(document.id)
    status, answer = await api(
        BOB, "POST", body={"context": "editor", "documentId": str(document.id)}
    )
    assert status == 404 and "document" in answer["message"]


async def test_deleting_a_session_deletes_its_stream(api, jp_serverapp):
    app = _extension(jp_serverapp)
    engine = await app.started_stream_engine()
    _, doomed = await api(ALICE, "POST", body={"context": "editor"})
    _, kept = await api(ALICE, "POST", body={"context": "editor"})
    for session in (doomed, kept):
        await engine.create(
            session["durableStreamId"], content_type="application/json", data=b'[{"n":1}]'
        )
    status, _ = await api(BOB, "DELETE", doomed["id"])
    assert status == 404
    assert (await engine.head(doomed["durableStreamId"])).path == doomed["durableStreamId"]
    status, _ = await api(ALICE, "DELETE", doomed["id"])
    assert status == 204
    with pytest.raises(StreamNotFoundError):
        await engine.head(doomed["durableStreamId"])
    assert (await engine.read(kept["durableStreamId"])).messages


async def test_renaming_a_document_in_jupyter_keeps_its_sessions(api, jp_fetch, jp_serverapp):
    catalog = _extension(jp_serverapp).catalog
    await jp_fetch("api", "contents", "parts", method="PUT", body=json.dumps({"type": "directory"}))
    await jp_fetch(
        "api",
        "contents",
        "parts",
        "plate.solid.json",
        method="PUT",
        body=json.dumps({"type": "file", "format": "text", "content": "{}"}),
    )
    document = await catalog.register_document(ALICE, "parts/plate.solid.json")
    _, session = await api(
        ALICE, "POST", body={"context": "editor", "documentId": str(document.id)}
    )

    await jp_fetch(
        "api",
        "contents",
        "parts",
        method="PATCH",
        body=json.dumps({"path": "fixtures"}),
    )
    await jp_serverapp.event_logger.gather_listeners()
    moved = await catalog.get_document(ALICE, document.id)
    assert moved is not None and moved.path == "fixtures/plate.solid.json"
    _, still = await api(ALICE, "GET", session["id"])
    assert still["documentId"] == str(document.id)

    await jp_fetch("api", "contents", "fixtures", "plate.solid.json", method="DELETE")
    await jp_serverapp.event_logger.gather_listeners()
    assert await catalog.get_document(ALICE, document.id) is None
    _, orphan = await api(ALICE, "GET", session["id"])
    assert orphan["documentId"] is None


async def test_openapi_document_is_valid_and_generated_from_the_models(jp_fetch):
    response = await jp_fetch("solidtype", "api", "openapi.json")
    document = json.loads(response.body)
    validate(document)
    assert document["servers"][0]["url"].endswith("/solidtype/api")
    session = document["components"]["schemas"]["ChatSessionSchema"]
    assert {"id", "userId", "context", "messageCount", "durableStreamId"} <= set(
        session["properties"]
    )
    create = document["components"]["schemas"]["CreateChatSessionRequest"]
    assert create["additionalProperties"] is False
    assert create["properties"]["title"]["anyOf"][0]["maxLength"] == TITLE_MAX_LENGTH
    assert {
        "/ai/sessions",
        "/ai/sessions/{session_id}",
        "/ai/sessions/{session_id}/archive",
    } <= set(document["paths"])

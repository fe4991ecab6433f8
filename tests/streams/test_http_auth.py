"""The stream routes inside a real jupyter_server: authentication, ownership, validation."""

from __future__ import annotations

import json
import uuid

import pytest

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def stream_fetch(http_server_client, jp_base_url, jp_auth_header):
    """Fetch ``{base}solidtype/v1/stream/<raw path>`` with the test token, no re-quoting.

    ``fetch.cookie`` (set by ``login``) keeps one identity across requests: a shared token
    alone makes jupyter_server invent a new anonymous user per request.
    """

    def fetch(raw_path: str, *, auth: bool = True, **kwargs):
        headers = dict(jp_auth_header) if auth else {}
        if auth and fetch.cookie:
            headers["Cookie"] = fetch.cookie
        headers.update(kwargs.pop("headers", {}))
        url = f"{jp_base_url.rstrip('/')}/solidtype/v1/stream/{raw_path}"
        return http_server_client.fetch(url, headers=headers, raise_error=False, **kwargs)

    fetch.cookie = ""
    return fetch


async def login(jp_fetch, stream_fetch, app) -> str:
    """The owner the following ``stream_fetch`` requests act as: a token login names nobody
    (an anonymous user), so it owns the sessions of ``SolidTypeApp.anonymous_owner``."""
    response = await jp_fetch("api", "me")
    stream_fetch.cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    assert json.loads(response.body)["identity"]["name"].startswith("Anonymous")
    return str(app.anonymous_owner)


async def test_streams_need_authentication(stream_fetch):
    response = await stream_fetch(f"ai-chat/{uuid.uuid4()}", auth=False)
    assert response.code == 403
    response = await stream_fetch(
        f"ai-chat/{uuid.uuid4()}", auth=False, method="PUT", body=b"", headers=JSON
    )
    assert response.code == 403


async def test_paths_other_than_owned_sessions_are_refused(stream_fetch):
    for path in (f"ai-chat/{uuid.uuid4()}", "documents/x", "anything", "ai-chat/a/b"):
        response = await stream_fetch(path, method="PUT", body=b"", headers=JSON)
        assert response.code == 403, path


@pytest.mark.parametrize("raw", ["ai-chat/..%2Fx", "ai-chat/%2E%2E/x", "a%01b", "a%0Ab", "a//b"])
async def test_unsafe_paths_are_400(stream_fetch, raw):
    response = await stream_fetch(raw, method="PUT", body=b"", headers=JSON)
    assert response.code == 400, raw
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_owner_uses_own_session_stream_only(stream_fetch, jp_fetch, jp_serverapp):
    app = jp_serverapp.web_app.settings["solidtype"]
    if getattr(app, "sessions", None) is None:
        pytest.fail("SolidTypeApp.sessions (the chat session repository) is not wired")
    me = await login(jp_fetch, stream_fetch, app)
    mine = await app.sessions.create(me, "dashboard")
    theirs = await app.sessions.create("someone-else", "dashboard")

    path = f"ai-chat/{mine.id}"
    # The chat service writes chat streams; the owner reads them.
    engine = await app.started_stream_engine()
    await engine.create(path, content_type="application/json")
    await engine.append(path, b'{"type":"RUN_STARTED"}', content_type="application/json")
    read = await stream_fetch(f"{path}?offset=-1")
    assert read.code == 200 and json.loads(read.body) == [{"type": "RUN_STARTED"}]
    assert read.headers["Content-Type"] == "application/json"
    for method, body in (("PUT", b"[]"), ("POST", b"1"), ("DELETE", None)):
        response = await stream_fetch(path, method=method, body=body, headers=JSON)
        assert response.code == 403, method

    for method, body in (("GET", None), ("PUT", b"[]"), ("POST", b"1"), ("DELETE", None)):
        response = await stream_fetch(
            f"ai-chat/{theirs.id}", method=method, body=body, headers=JSON
        )
        assert response.code == 403, method

    # Deleting the session deletes its stream.
    assert await app.sessions.delete(me, mine.id)
    with pytest.raises(Exception, match="not found"):
        await engine.head(path)


async def test_owner_uses_own_document_stream_only(stream_fetch, jp_fetch, jp_serverapp):
    app = jp_serverapp.web_app.settings["solidtype"]
    if getattr(app, "catalog", None) is None:
        pytest.fail("SolidTypeApp.catalog (the document repository) is not wired")
    me = await login(jp_fetch, stream_fetch, app)
    mine = await app.catalog.create_document(me, "plate")
    theirs = await app.catalog.create_document("someone-else", "bracket")
    created = await stream_fetch(
        f"documents/{mine.id}", method="PUT", body=b"", headers={"Content-Type": "text/plain"}
    )
    assert created.code == 201
    refused = await stream_fetch(f"documents/{theirs.id}?offset=-1")
    assert refused.code == 403
    assert (await stream_fetch("documents/not-a-uuid?offset=-1")).code == 403

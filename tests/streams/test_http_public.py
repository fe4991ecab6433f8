"""``SolidTypeApp.streams_public``: the protocol without authentication (conformance mode)."""

from __future__ import annotations

import pytest


@pytest.fixture
def jp_server_config(sqlite_url):
    return {
        "ServerApp": {"jpserver_extensions": {"solidtype_jupyter": True}},
        "SolidTypeApp": {
            "database_url": sqlite_url,
            "streams_public": True,
            "long_poll_timeout": 0.5,
        },
    }


async def test_public_streams_need_no_token(http_server_client, jp_base_url):
    base = f"{jp_base_url.rstrip('/')}/solidtype/v1/stream/runs/demo"

    async def fetch(url, **kwargs):
        return await http_server_client.fetch(url, raise_error=False, **kwargs)

    put = await fetch(base, method="PUT", body=b"hi", headers={"Content-Type": "text/plain"})
    assert put.code == 201 and put.headers["Location"].endswith("/solidtype/v1/stream/runs/demo")
    post = await fetch(base, method="POST", body=b" there", headers={"Content-Type": "text/plain"})
    assert post.code == 204
    read = await fetch(f"{base}?offset=-1")
    assert read.body == b"hi there" and read.headers["Content-Type"] == "text/plain"
    assert read.headers["Stream-Next-Offset"] == post.headers["Stream-Next-Offset"]
    again = await fetch(f"{base}?offset=-1", headers={"If-None-Match": read.headers["ETag"]})
    assert again.code == 304
    polled = await fetch(f"{base}?offset=now&live=long-poll")
    assert polled.code == 204 and polled.headers["Stream-Up-To-Date"] == "true"
    preflight = await fetch(
        base,
        method="OPTIONS",
        headers={
            "Origin": "https://example.com",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert "if-none-match" in preflight.headers["Access-Control-Allow-Headers"]
    assert (await fetch(base, method="DELETE")).code == 204
    assert (await fetch(base, method="HEAD")).code == 404


async def test_public_mode_still_keeps_chat_streams_to_the_server(
    http_server_client, jp_base_url, jp_serverapp
):
    """Anyone may read a chat stream here, nobody may write one: the chat trusts them."""
    base = f"{jp_base_url.rstrip('/')}/solidtype/v1/stream"
    app = jp_serverapp.web_app.settings["solidtype"]
    engine = await app.started_stream_engine()
    await engine.create("ai-chat/public", content_type="application/json", data=b"[]")

    async def fetch(path, **kwargs):
        return await http_server_client.fetch(f"{base}/{path}", raise_error=False, **kwargs)

    json_type = {"Content-Type": "application/json"}
    for method, body in (("PUT", b""), ("POST", b"5"), ("DELETE", None)):
        response = await fetch("ai-chat/public", method=method, body=body, headers=json_type)
        assert response.code == 403 and b"written by the server" in response.body, method
    assert (await fetch("ai-chat/public?offset=-1")).code == 200
    # The body limit holds in public mode too.
    app.max_stream_append_bytes = 8
    put = await fetch("runs/small", method="PUT", body=b"123456789", headers=json_type)
    assert put.code == 413
    assert (
        await fetch("runs/small", method="PUT", body=b"[123456]", headers=json_type)
    ).code == 201

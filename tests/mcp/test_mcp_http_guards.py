"""``{base}solidtype/mcp``'s guards against a real jupyter_server: a browser page of another
origin cannot drive the route with the user's cookies, nor a rebound host name; bodies are
bounded as they arrive; MCP sessions per user are bounded (a vanished client's session makes
room, connected ones are never ended for another); a session whose client stays connected
keeps its document however long it idles.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent.conftest import server_config  # noqa: E402

PROTOCOL = "2025-06-18"
REQUEST_IDS = itertools.count(100)
ACCEPT = "application/json, text/event-stream"


@pytest.fixture
def jp_server_config(sqlite_url: str) -> dict[str, Any]:
    # Thread agents: these tests never run a CAD tool, so no kernel is needed.
    return server_config(
        sqlite_url,
        "scripted:quickstart",
        max_mcp_sessions_per_user=2,
        default_runtime="thread",
        agent_pool_size=0,
    )


@pytest.fixture
def endpoint(jp_fetch: Any, jp_serverapp: Any, jp_http_port: int) -> str:
    return f"http://127.0.0.1:{jp_http_port}{jp_serverapp.base_url}solidtype/mcp"


def initialize(request_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"},
        },
    }


def messages(answer: httpx2.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of an answer (SSE ``data:`` lines, or a JSON body)."""
    if answer.headers.get("content-type", "").startswith("application/json"):
        return [answer.json()]
    return [json.loads(line[5:]) for line in answer.text.splitlines() if line.startswith("data:")]


async def open_session(http: httpx2.AsyncClient, url: str, user: str) -> str:
    answer = await http.post(
        url, json=initialize(), headers={"X-Test-User": user, "Accept": ACCEPT}
    )
    assert answer.status_code == 200, answer.text
    session = answer.headers["mcp-session-id"]
    done = await http.post(
        url,
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers=session_headers(user, session),
    )
    assert done.status_code == 202, done.text
    return session


def session_headers(user: str, session: str) -> dict[str, str]:
    return {
        "X-Test-User": user,
        "Accept": ACCEPT,
        "mcp-session-id": session,
        "mcp-protocol-version": PROTOCOL,
    }


async def list_tools(http: httpx2.AsyncClient, url: str, user: str, session: str) -> int:
    answer = await http.post(
        url,
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
        headers=session_headers(user, session),
    )
    return answer.status_code


@asynccontextmanager
async def listening(
    http: httpx2.AsyncClient, url: str, user: str, session: str
) -> AsyncIterator[None]:
    """The session's GET stream held open, as a connected client holds it."""
    headers = session_headers(user, session) | {"Accept": "text/event-stream"}
    async with http.stream("GET", url, headers=headers) as stream:
        assert stream.status_code == 200
        yield


def service(serverapp: Any) -> Any:
    return serverapp.extension_manager.extension_points["solidtype"].app.mcp


async def test_cookies_from_another_origin_cannot_drive_the_route(
    jp_serverapp: Any, endpoint: str
) -> None:
    token = jp_serverapp.identity_provider.token
    base = endpoint.removesuffix("solidtype/mcp")
    host = endpoint.split("/")[2]
    async with httpx2.AsyncClient() as browser:
        # A token login leaves the login cookie, as JupyterLab's first page load does.
        assert (await browser.get(f"{base}api/status?token={token}")).status_code == 200
        assert any(name.startswith("username-") for name in browser.cookies)
        browser.cookies.set("_xsrf", "b0f1e2d3c4", domain=host.split(":")[0])

        # The page of the same origin, which can read the _xsrf cookie: served.
        same = await browser.post(
            endpoint,
            json=initialize(),
            headers={"Accept": ACCEPT, "Origin": f"http://{host}", "X-XSRFToken": "b0f1e2d3c4"},
        )
        assert same.status_code == 200, same.text
        assert same.headers.get("mcp-session-id")

        # Another origin's page: its Origin is refused before XSRF is even looked at.
        other = await browser.post(
            endpoint,
            json=initialize(),
            headers={
                "Accept": ACCEPT,
                "Origin": "https://evil.example",
                "X-XSRFToken": "b0f1e2d3c4",
            },
        )
        assert other.status_code in (403, 404), other.text
        assert "mcp-session-id" not in other.headers

        # No Origin (a form post of an old browser): the XSRF check refuses it, as it
        # does a text/plain "simple request" a page may send without a preflight.
        for headers in (
            {"Accept": ACCEPT},
            {"Accept": ACCEPT, "Content-Type": "text/plain"},
        ):
            forged = await browser.post(
                endpoint, content=json.dumps(initialize()).encode(), headers=headers
            )
            assert forged.status_code == 403, forged.text

        # A GET (the server's stream) from another origin with the cookie.
        listen = await browser.get(
            endpoint, headers={"Accept": "text/event-stream", "Origin": "https://evil.example"}
        )
        assert listen.status_code in (403, 404)

    # DNS rebinding: a page whose name now points at this server sends its own Host.
    async with httpx2.AsyncClient() as rebound:
        port = host.split(":")[1]
        answer = await rebound.post(
            endpoint,
            json=initialize(),
            headers={
                "Authorization": f"token {token}",
                "Host": f"evil.example:{port}",
                "Accept": ACCEPT,
            },
        )
        assert answer.status_code == 403, answer.text


async def test_bodies_are_bounded(jp_serverapp: Any, endpoint: str) -> None:
    from solidtype_jupyter.server.mcp_http import MAX_BODY_BYTES

    token = jp_serverapp.identity_provider.token
    headers = {"Authorization": f"token {token}", "X-Test-User": "alice", "Accept": ACCEPT}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        big = initialize()
        big["params"]["clientInfo"]["name"] = "x" * (MAX_BODY_BYTES + 1)
        answer = await http.post(endpoint, json=big)
        assert answer.status_code == 413, answer.text
        assert f"at most {MAX_BODY_BYTES} bytes" in answer.json()["error"]["message"]
        assert not service(jp_serverapp) or not service(jp_serverapp).owners
        # A stranger's body is refused as a stranger (403), not read to the limit.
        stranger = await http.post(
            endpoint, content=b"x" * 1024, headers={"Authorization": "token wrong"}
        )
        assert stranger.status_code == 403
        # A client that waits for "100 Continue" before a large body is answered 413 at
        # once: nothing of it is read (tornado would otherwise take up to 512 MB in memory).
        host, port = endpoint.split("/")[2].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        path = "/" + endpoint.split("/", 3)[3]
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: token {token}\r\nContent-Type: application/json\r\n"
                f"Accept: {ACCEPT}\r\nContent-Length: 100000000\r\n"
                "Expect: 100-continue\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 30)
        writer.close()
        assert status.startswith(b"HTTP/1.1 413"), status
        # Under the limit: served.
        assert (await http.post(endpoint, json=initialize())).status_code == 200


async def test_sessions_per_user_are_bounded(jp_serverapp: Any, endpoint: str) -> None:
    token = jp_serverapp.identity_provider.token
    auth = {"Authorization": f"token {token}"}
    async with httpx2.AsyncClient(headers=auth, timeout=60) as http:
        first = await open_session(http, endpoint, "alice")
        second = await open_session(http, endpoint, "alice")
        bobs = await open_session(http, endpoint, "bob")  # another user's: not counted

        # alice is at her two: a third ends the one least recently used with nothing in
        # flight (a client that went away without ending it).
        assert await list_tools(http, endpoint, "alice", second) == 200
        third = await open_session(http, endpoint, "alice")
        assert await list_tools(http, endpoint, "alice", first) == 404
        assert await list_tools(http, endpoint, "alice", second) == 200
        assert await list_tools(http, endpoint, "alice", third) == 200
        assert first not in service(jp_serverapp).owners

        # Both connected (their GET streams open): a fourth is refused, naming the setting,
        # and neither connected session is ended for it.
        async with (
            listening(http, endpoint, "alice", second),
            listening(http, endpoint, "alice", third),
        ):
            refused = await http.post(
                endpoint, json=initialize(), headers={"X-Test-User": "alice", "Accept": ACCEPT}
            )
            assert refused.status_code == 503, refused.text
            assert "max_mcp_sessions_per_user" in refused.json()["error"]["message"]
            assert "mcp-session-id" not in refused.headers
            assert await list_tools(http, endpoint, "alice", second) == 200
            assert await list_tools(http, endpoint, "alice", third) == 200
        assert await list_tools(http, endpoint, "bob", bobs) == 200

        # The client's DELETE ends a session: room for a new one without ending another.
        ended = await http.delete(endpoint, headers=session_headers("alice", second))
        assert ended.status_code == 200
        assert await list_tools(http, endpoint, "alice", second) == 404
        await open_session(http, endpoint, "alice")
        assert await list_tools(http, endpoint, "alice", third) == 200


async def test_a_connected_session_is_kept_while_idle(
    jp_serverapp: Any, endpoint: str, jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from solidtype_jupyter.server import mcp_http

    monkeypatch.setattr(mcp_http, "SWEEP_SECONDS", 0.2)
    ext = jp_serverapp.extension_manager.extension_points["solidtype"].app
    ext.agent_idle_timeout = 2.0  # read when the first request starts the service
    token = jp_serverapp.identity_provider.token
    async with httpx2.AsyncClient(headers={"Authorization": f"token {token}"}, timeout=60) as http:
        session = await open_session(http, endpoint, "alice")
        opened = await http.post(
            endpoint,
            json={
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "open_document", "arguments": {"path": "idle.solid.json"}},
            },
            headers=session_headers("alice", session),
        )
        [result] = messages(opened)
        assert result["result"]["isError"] is False, result
        async with listening(http, endpoint, "alice", session):
            await asyncio.sleep(4.5)  # idle, past the idle time, its stream open
            assert session in ext.mcp.workspaces
            assert ext.mcp.workspaces[session].document_path == "idle.solid.json"
        # Gone (its stream closed): forgotten after the idle time, on both sides.
        for _ in range(100):
            if session not in ext.mcp.owners:
                break
            await asyncio.sleep(0.1)
        assert session not in ext.mcp.workspaces
        assert await list_tools(http, endpoint, "alice", session) == 404


async def call_tool(
    http: httpx2.AsyncClient, url: str, user: str, session: str, name: str, arguments: Any
) -> dict[str, Any]:
    answer = await http.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": next(REQUEST_IDS),  # unique per session: parallel calls are told apart by it
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
        headers=session_headers(user, session),
    )
    [message] = messages(answer)
    return message  # type: ignore[no-any-return]


async def test_links_out_of_the_root_are_refused(
    jp_serverapp: Any, endpoint: str, jp_root_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.solid.json"
    secret.write_text('{"name": "secret"}')
    (jp_root_dir / "linked").symlink_to(outside, target_is_directory=True)
    (jp_root_dir / "alias.solid.json").symlink_to(secret)
    token = jp_serverapp.identity_provider.token
    async with httpx2.AsyncClient(headers={"Authorization": f"token {token}"}, timeout=60) as http:
        session = await open_session(http, endpoint, "alice")
        for path in (
            "linked/secret.solid.json",
            "linked/new.solid.json",
            "alias.solid.json",
            "../outside/secret.solid.json",
            "/etc/x.solid.json",
        ):
            answer = await call_tool(
                http, endpoint, "alice", session, "open_document", {"path": path}
            )
            result = answer["result"]
            assert result["isError"] is True, (path, result)
            text = result["content"][0]["text"]
            assert str(tmp_path) not in text and str(jp_root_dir) not in text  # no server path
        assert sorted(p.name for p in outside.iterdir()) == ["secret.solid.json"]
        assert secret.read_text() == '{"name": "secret"}'
        # The resource of a document the session did not open: refused as well.
        read = await http.post(
            endpoint,
            json={
                "jsonrpc": "2.0",
                "id": 10,
                "method": "resources/read",
                "params": {"uri": "solidtype://documents/linked/secret.solid.json"},
            },
            headers=session_headers("alice", session),
        )
        [message] = messages(read)
        assert "only the document this MCP session opened" in message["error"]["message"]


async def test_clients_connecting_at_once_to_a_fresh_server_share_one_service(
    jp_serverapp: Any, endpoint: str
) -> None:
    """The first requests start the SDK's session manager; several arriving together must
    not each start one (a session made by a manager the later requests never reach: 404)."""
    token = jp_serverapp.identity_provider.token
    async with httpx2.AsyncClient(headers={"Authorization": f"token {token}"}, timeout=60) as http:
        sessions = await asyncio.gather(
            *(open_session(http, endpoint, user) for user in ("alice", "bob", "alice", "carol"))
        )
        assert len(set(sessions)) == 4
        for user, session in zip(("alice", "bob", "alice", "carol"), sessions, strict=True):
            assert await list_tools(http, endpoint, user, session) == 200


async def test_parallel_open_document_calls_open_one(
    jp_serverapp: Any, endpoint: str, jp_root_dir: Path
) -> None:
    """A client calling tools in parallel: one open_document opens, the other is told a
    document is already open (both opened, each starting an agent, the last one kept)."""
    token = jp_serverapp.identity_provider.token
    ext = jp_serverapp.extension_manager.extension_points["solidtype"].app
    async with httpx2.AsyncClient(headers={"Authorization": f"token {token}"}, timeout=60) as http:
        session = await open_session(http, endpoint, "alice")
        answers = await asyncio.gather(
            *(
                call_tool(http, endpoint, "alice", session, "open_document", {"path": path})
                for path in ("one.solid.json", "two.solid.json")
            )
        )
        errors = [a["result"]["isError"] for a in answers]
        assert sorted(errors) == [False, True], answers
        refused = answers[errors.index(True)]["result"]["content"][0]["text"]
        assert "already open" in refused
        opened = ext.mcp.workspaces[session].document_path
        assert opened in ("one.solid.json", "two.solid.json")
        names = await asyncio.to_thread(lambda: [p.name for p in jp_root_dir.glob("*.solid.json")])
        assert names == [opened]

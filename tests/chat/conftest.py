"""A real jupyter_server with the chat routes, on SQLite and PostgreSQL, with two users.

The model is the scripted one, read from ``script_path`` at every run (tests write the turns
they need before posting). ``HeaderIdentityProvider`` names the user from ``X-Test-User``
after the usual token check, so one server sees two identities.
"""

from __future__ import annotations

import inspect
import json
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import PasswordIdentityProvider, User
from tornado.httpclient import HTTPClientError

from solidtype_jupyter.store import backend_name, upgrade_schema

ALICE, BOB = "alice", "bob"


class HeaderIdentityProvider(PasswordIdentityProvider):
    async def get_user(self, handler: Any) -> User | None:
        user = super().get_user(handler)
        if inspect.isawaitable(user):
            user = await user
        name = handler.request.headers.get("X-Test-User")
        if user is None or not name:
            return user
        return User(username=name, name=name)


class ContentsAuthorizer(Authorizer):
    """jupyter_server's ``contents`` permission taken away per user: ``DENIED[name]`` holds
    the actions ("read", "write") that user may not do (set it through ``denied``)."""

    DENIED: ClassVar[dict[str, set[str]]] = {}

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (resource == "contents" and action in self.DENIED.get(user.username, ()))


@pytest.fixture
def denied():
    ContentsAuthorizer.DENIED.clear()
    yield ContentsAuthorizer.DENIED
    ContentsAuthorizer.DENIED.clear()


def write_script(path: Path, *turns: dict[str, Any]) -> None:
    path.write_text("".join(json.dumps(t) + "\n" for t in turns), encoding="utf-8")


@pytest.fixture
def script_path(tmp_path: Path) -> Path:
    path = tmp_path / "turns.jsonl"
    write_script(path, {"text": "Hello from the script."})
    return path


@pytest.fixture
def chat_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def jp_root_dir(chat_root: Path) -> Path:
    return chat_root


@pytest.fixture
def jp_server_config(database_url: str, script_path: Path) -> dict[str, Any]:
    if backend_name(database_url) == "postgresql":
        upgrade_schema(database_url)
    return {
        "ServerApp": {
            "jpserver_extensions": {"solidtype_jupyter": True},
            "identity_provider_class": HeaderIdentityProvider,
        },
        "SolidTypeApp": {"database_url": database_url, "model": f"scripted:{script_path}"},
    }


def parse_sse(text: str) -> list[tuple[str | None, dict[str, Any]]]:
    """``(id, event)`` per frame; asserts the framing rules of the AG-UI note."""
    frames: list[tuple[str | None, dict[str, Any]]] = []
    current_id: str | None = None
    for line in text.split("\n"):
        assert not line.startswith("event:"), line
        if line.startswith("id: "):
            current_id = line[4:]
        elif line.startswith("data: "):
            assert line != "data: [DONE]"
            frames.append((current_id, json.loads(line[6:])))
            current_id = None
    return frames


class ChatClient:
    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch

    async def call(
        self,
        user: str,
        method: str,
        *path: str,
        body: Any = None,
        raw: str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, Any]:
        kwargs: dict[str, Any] = {
            "method": method,
            "headers": {"X-Test-User": user, **(headers or {})},
            "request_timeout": 60,
        }
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method == "POST":
            kwargs["body"] = ""
        try:
            response = await self.fetch("solidtype", "api", "ai", *path, params=params, **kwargs)
        except HTTPClientError as exc:
            assert exc.response is not None
            response = exc.response
        text = response.body.decode() if response.body else ""
        content_type = response.headers.get("Content-Type", "")
        parsed: Any = text
        if "json" in content_type and text:
            parsed = json.loads(text)
        elif "event-stream" in content_type:
            parsed = parse_sse(text)
        return response.code, content_type, parsed

    async def session(self, user: str, context: str = "dashboard", **extra: Any) -> str:
        code, _, body = await self.call(
            user, "POST", "sessions", body={"context": context, **extra}
        )
        assert code == 201, body
        return str(body["id"])

    async def turn(
        self,
        user: str,
        session_id: str,
        text: str | None = None,
        *,
        resume: list[dict[str, Any]] | None = None,
        parent_run_id: str | None = None,
        run_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        body: dict[str, Any] = {
            "threadId": session_id,
            "runId": run_id or f"run-{uuid.uuid4().hex[:8]}",
            "state": {},
            "messages": [],
            "tools": [],
            "context": [],
            "forwardedProps": {},
        }
        if text is not None:
            body["messages"] = [
                {"id": f"u-{uuid.uuid4().hex[:8]}", "role": "user", "content": text}
            ]
        if resume is not None:
            body["resume"] = resume
        if parent_run_id is not None:
            body["parentRunId"] = parent_run_id
        code, _, parsed = await self.call(user, "POST", "chat", body=body, headers=headers)
        return code, parsed


@pytest.fixture
def chat(jp_fetch) -> ChatClient:
    return ChatClient(jp_fetch)


def extension(serverapp: Any) -> Any:
    return serverapp.extension_manager.extension_points["solidtype"].app

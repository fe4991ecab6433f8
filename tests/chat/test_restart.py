"""Kill the server in the middle of an answer: after a restart on the same database the client
resumes from its last offset and ends with the transcript an uninterrupted run produces.

A real ``jupyter server`` process with the extension and the scripted model; SIGKILL while
the answer streams; a new server on the same SQLite file; the client reconnects with its last
``id:`` (as ``GET .../session/{id}?offset=X&live=sse``, or as the TanStack client does: the
same POST with ``Last-Event-ID``). The events before the kill plus the events after the
reconnect must equal, event for event, those of the same conversation run without a kill.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from .conftest import write_script

TOKEN = "restart-test-token"
IDENTITY_CONFIG = """
from jupyter_server.auth.identity import PasswordIdentityProvider, User


class OneUser(PasswordIdentityProvider):
    async def get_user(self, handler):
        user = super().get_user(handler)
        if hasattr(user, "__await__"):
            user = await user
        return None if user is None else User(username="alice", name="alice")


c = get_config()  # noqa: F821
c.ServerApp.identity_provider_class = OneUser
"""
SCRIPT = (
    {
        "text": [f"alpha{i} " for i in range(40)],
        "delay_ms": 25,
        "tool_calls": [{"name": "list_workspaces", "arguments": {}}],
    },
    {"text": [f"omega{i} " for i in range(40)], "delay_ms": 25},
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, tmp: Path, database_url: str, script: Path) -> None:
        self.tmp, self.database_url, self.script = tmp, database_url, script
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        root = self.tmp / "root"
        root.mkdir(exist_ok=True)
        config = self.tmp / "config"
        config.mkdir(exist_ok=True)
        # Token requests are anonymous (a new user each time); name one user instead.
        (config / "jupyter_server_config.py").write_text(IDENTITY_CONFIG)
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.tmp / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
            "JUPYTER_DATA_DIR": str(self.tmp / "data"),
        }
        log = open(self.tmp / "server.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "server",
                "--no-browser",
                "--allow-root",
                f"--port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.jpserver_extensions=solidtype_jupyter=True",
                f"--SolidTypeApp.database_url={self.database_url}",
                f"--SolidTypeApp.model=scripted:{self.script}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.call("GET", "api/status")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError((self.tmp / "server.log").read_text()[-3000:])

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def open(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url(path),
            data=data,
            method=method,
            headers={
                "Authorization": f"token {TOKEN}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        return urllib.request.urlopen(request, timeout=30)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        try:
            with self.open(method, path, body) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def read_frames(response: Any, limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """SSE frames as they arrive; stops after ``limit`` frames (the connection stays open)."""
    frames: list[tuple[str, dict[str, Any]]] = []
    current = ""
    for raw in response:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("id: "):
            current = line[4:]
        elif line.startswith("data: "):
            frames.append((current, json.loads(line[6:])))
            if limit is not None and len(frames) >= limit:
                return frames
    return frames


def turn_body(session_id: str, run_id: str, text: str) -> dict[str, Any]:
    return {
        "threadId": session_id,
        "runId": run_id,
        "state": {},
        "tools": [],
        "context": [],
        "forwardedProps": {},
        "messages": [{"id": f"u-{run_id}", "role": "user", "content": text}],
    }


def normalized(frames: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Events without what differs between two runs of one conversation: timestamps, run
    and thread ids, and the random message ids (numbered by first appearance)."""
    ids: dict[str, str] = {}
    out = []
    for _, event in frames:
        item = {k: v for k, v in event.items() if k not in ("timestamp", "runId", "threadId")}
        for key in ("messageId", "parentMessageId"):
            if key in item:
                item[key] = ids.setdefault(item[key], f"m{len(ids)}")
        if item.get("type") == "CUSTOM" and item.get("name") == "run.accepted":
            item["value"] = {}
        if "outcome" in item:
            item["outcome"] = json.loads(
                json.dumps(item["outcome"]).replace(event.get("runId", "?"), "RUN")
            )
        out.append(item)
    return out


def conversation(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(m["role"], json.dumps(m["parts"], sort_keys=True)) for m in messages]


@pytest.mark.parametrize(
    ("kill_after", "reconnect"),
    [(12, "get"), (70, "last-event-id")],
    ids=["first-answer-by-get", "after-the-tool-by-last-event-id"],
)
def test_resume_after_sigkill_matches_an_uninterrupted_run(
    tmp_path: Path, sqlite_url: str, kill_after: int, reconnect: str
) -> None:
    script = tmp_path / "turns.jsonl"
    write_script(script, *SCRIPT)
    server = Server(tmp_path, sqlite_url, script)
    server.start()
    try:
        # The reference: the same conversation without a kill.
        _, reference_session = server.call(
            "POST", "solidtype/api/ai/sessions", {"context": "dashboard"}
        )
        with server.open(
            "POST", "solidtype/api/ai/chat", turn_body(reference_session["id"], "run-ref", "Go")
        ) as response:
            reference = read_frames(response)
        assert reference[-1][1]["type"] == "RUN_FINISHED"
        _, reference_hydrated = server.call(
            "GET", f"solidtype/api/ai/session/{reference_session['id']}"
        )

        _, session = server.call("POST", "solidtype/api/ai/sessions", {"context": "dashboard"})
        session_id = session["id"]
        body = turn_body(session_id, f"run-{uuid.uuid4().hex[:6]}", "Go")
        response = server.open("POST", "solidtype/api/ai/chat", body)
        before = read_frames(response, limit=kill_after)
        server.kill()
        response.close()
        assert before[-1][1]["type"] != "RUN_FINISHED"

        server.start()  # same port, same database
        last_id = before[-1][0]
        if reconnect == "get":
            opened = server.open(
                "GET", f"solidtype/api/ai/session/{session_id}?offset={last_id}&live=sse"
            )
        else:
            opened = server.open(
                "POST", "solidtype/api/ai/chat", body, headers={"Last-Event-ID": last_id}
            )
        with opened as response:
            after = read_frames(response)
        received = before + after
        ids = [frame_id for frame_id, _ in received]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)  # no duplicate
        assert normalized(received) == normalized(reference)  # no gap, same answer
        _, hydrated = server.call("GET", f"solidtype/api/ai/session/{session_id}")
        assert conversation(hydrated["messages"]) == conversation(reference_hydrated["messages"])
        assert hydrated["activeRun"] is None
        # The stream holds exactly what the client received, after the user's message.
        with server.open("GET", f"solidtype/api/ai/session/{session_id}?offset=-1") as r:
            stored = json.loads(r.read())["events"]
        assert [e["offset"] for e in stored[3:]] == ids
    finally:
        server.stop()

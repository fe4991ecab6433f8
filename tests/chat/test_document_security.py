"""Editor sessions, the picture route and document files against hostile users and paths
(issue 19 #2, #3, #8, #10), on a real jupyter_server with two users.

``ContentsAuthorizer`` takes jupyter_server's ``contents`` permission away from a user (read,
write or both) while every other resource stays allowed, the way a deployment that keeps
some users out of the files would configure it; a test changes ``DENIED`` mid-session to
take a permission away from a user whose session already exists.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from solidtype_jupyter.cad import CadDocument

from .conftest import ALICE, BOB, ChatClient, ContentsAuthorizer, write_script


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """The chat tests' server (two users by header, the scripted model) with
    ``ContentsAuthorizer``; agents run in threads of the server: the same document path as
    kernels (the agent's changes reach the server's copy as Yjs updates) at a fraction of
    the machine."""
    return {
        "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": ContentsAuthorizer},
        "SolidTypeApp": {
            **jp_server_config["SolidTypeApp"],
            "default_runtime": "thread",
            "agent_pool_size": 0,
        },
    }


# A change the agent makes without asking for approval.
ADD_SKETCH = (
    {"tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]},
    {"text": "Sketch added."},
)


def plate(path: Path) -> Path:
    document = CadDocument("plate")
    document.set_parameter("width", 10)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path


def features(path: Path) -> list[str]:
    return [feature.id for feature in CadDocument.load(path).features]


def everything(frames: Any) -> str:
    return json.dumps(frames)


async def render(jp_fetch, user: str, **params: str) -> tuple[int, Any]:
    try:
        response = await jp_fetch(
            "solidtype",
            "api",
            "documents",
            "render",
            params=params,
            headers={"X-Test-User": user},
            request_timeout=300,
        )
    except HTTPClientError as exc:
        assert exc.response is not None
        response = exc.response
    body = response.body or b""
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return response.code, json.loads(body)
    return response.code, body


# --- #2: an editor session is authorized as `contents` --------------------------------------


async def test_a_user_without_contents_cannot_open_an_editor_session(
    chat: ChatClient, jp_fetch, chat_root: Path, denied
):
    plate(chat_root / "alice-private.solid.json")
    denied[BOB] = {"read", "write"}
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("api", "contents", headers={"X-Test-User": BOB})
    assert info.value.code == 403  # jupyter_server's own contents API refuses bob

    body = {"context": "editor", "documentPath": "alice-private.solid.json"}
    code, _, answer = await chat.call(BOB, "POST", "sessions", body=body)
    assert code == 403 and "contents" in answer["message"], answer
    code, _, answer = await chat.call(BOB, "GET", "sessions")
    assert code == 200 and answer["sessions"] == []
    code, _ = await render(jp_fetch, BOB, path="alice-private.solid.json")
    assert code == 403
    # A dashboard session touches no file: still allowed.
    assert await chat.session(BOB, "dashboard")
    # Write alone is not enough either: the session reads the document.
    denied[BOB] = {"read"}
    code, _, _ = await chat.call(BOB, "POST", "sessions", body=body)
    assert code == 403
    # alice, with every permission, is unaffected.
    code, _, answer = await chat.call(ALICE, "POST", "sessions", body=body)
    assert code == 201, answer


async def test_each_save_asks_again_and_a_lost_write_permission_refuses_it(
    chat: ChatClient, chat_root: Path, script_path: Path, denied
):
    document = plate(chat_root / "parts" / "shared.solid.json")
    bob_session = await chat.session(BOB, "editor", documentPath="parts/shared.solid.json")
    alice_session = await chat.session(ALICE, "editor", documentPath="parts/shared.solid.json")

    denied[BOB] = {"write"}  # taken away after the session was created
    write_script(script_path, *ADD_SKETCH)
    code, frames = await chat.turn(BOB, bob_session, "Add a sketch")
    assert code == 200, frames
    last = frames[-1][1]
    assert last["type"] == "RUN_ERROR" and last["code"] == "forbidden", last
    assert "parts/shared.solid.json was not saved" in last["message"]
    assert "write files" in last["message"]
    assert features(document) == []  # the agent's change never reached the file

    # Without read, the chat does not even start (nothing is stored).
    denied[BOB] = {"read", "write"}
    code, answer = await chat.turn(BOB, bob_session, "Try again")
    assert code == 403 and "read files" in answer["message"], answer
    code, _, hydrated = await chat.call(BOB, "GET", f"session/{bob_session}")
    assert code == 200 and "Try again" not in json.dumps(hydrated["messages"])

    # alice's session on the same file saves, and starts from the file, not bob's change.
    write_script(script_path, *ADD_SKETCH)
    code, frames = await chat.turn(ALICE, alice_session, "Add a sketch")
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
    assert features(document) == ["sketch1"]


async def test_dashboard_tools_make_files_only_for_a_user_who_may_write_them(
    chat: ChatClient, chat_root: Path, script_path: Path, denied
):
    write_script(
        script_path,
        {"tool_calls": [{"name": "create_document", "arguments": {"name": "bracket"}}]},
        {"text": "Created."},
    )
    denied[BOB] = {"write"}
    for user in (BOB, ALICE):
        session_id = await chat.session(user, "dashboard")
        code, frames = await chat.turn(user, session_id, "Create a bracket document")
        assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
        made = (chat_root / "bracket.solid.json").exists()
        assert made == (user == ALICE), user


# --- #3: expressions cannot stall the server ----------------------------------------------


def _document_with_distance(path: Path, distance: str, **extra: Any) -> None:
    features: list[dict[str, Any]] = [
        {"id": "sketch1", "type": "sketch", "plane": "XY",
         "entities": [{"kind": "rectangle", "width": 60, "height": 40}]},
        {"id": "extrude1", "type": "extrude", "sketch": "sketch1", "distance": distance},
    ]  # fmt: skip
    state = {"format": "solidtype-document", "version": 1, "name": "p", "features": features}
    path.write_text(json.dumps({**state, **extra}), encoding="utf-8")


async def _health_latency_while(jp_fetch, task: asyncio.Task[Any]) -> tuple[float, int]:
    """The longest wait for a health answer (a pause of the event loop included: the test
    shares it with the server) and how many answered while ``task`` ran."""
    slowest, answered = 0.0, 0
    while not task.done():
        started = time.perf_counter()
        response = await jp_fetch("solidtype", "api", "health", headers={"X-Test-User": BOB})
        assert response.code == 200
        if not task.done():
            answered += 1
        await asyncio.sleep(0.05)
        slowest = max(slowest, time.perf_counter() - started - 0.05)
    return slowest, answered


async def test_a_huge_power_is_a_422_and_never_stalls_the_server(jp_fetch, chat_root: Path):
    _document_with_distance(chat_root / "tower.solid.json", "9**9**7")
    pending = asyncio.ensure_future(render(jp_fetch, ALICE, path="tower.solid.json"))
    slowest, _ = await _health_latency_while(jp_fetch, pending)
    code, answer = await pending
    assert code == 422, answer
    assert "exponent 4782969 exceeds 1000" in answer["message"], answer
    assert slowest < 2.0, f"health took {slowest:.2f} s during the render"
    for index, distance in enumerate(("10**10**6", "1e308*10", "(-8)**0.5")):
        _document_with_distance(chat_root / f"huge{index}.solid.json", distance)
        code, answer = await render(jp_fetch, ALICE, path=f"huge{index}.solid.json")
        assert code == 422 and "cannot be evaluated" in answer["message"], (distance, answer)


def _slow_to_render(path: Path) -> None:
    """A wheel with 120 holes: about 6 s to rebuild and render on these machines."""
    document = CadDocument("wheel")
    document.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 100}]})
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 10})
    document.add_feature({"type": "hole", "positions": [[90, 0]], "diameter": 3})
    document.add_feature({"type": "pattern", "source": "hole1", "kind": "circular", "count": 120})
    document.save(path)


async def test_health_answers_while_a_slow_render_runs(jp_fetch, chat_root: Path):
    _slow_to_render(chat_root / "wheel.solid.json")
    started = time.perf_counter()
    pending = asyncio.ensure_future(render(jp_fetch, ALICE, path="wheel.solid.json"))
    slowest, answered = await _health_latency_while(jp_fetch, pending)
    code, png = await pending
    took = time.perf_counter() - started
    assert code == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert answered >= 3, f"the render took {took:.1f} s: too fast to show anything"
    # In a thread of the server this render's longest OCCT/VTK call held the interpreter
    # lock for 5 of its 6 s: health waited as long. In the render worker process it never
    # waits for the render.
    assert slowest < 2.0, f"health took {slowest:.2f} s during a {took:.1f} s render"


async def test_the_render_worker_stops_when_idle(jp_fetch, chat_root: Path, monkeypatch):
    from solidtype_jupyter.server import documents

    monkeypatch.setattr(documents, "RENDER_WORKER_IDLE", 0.5)
    document = CadDocument("block")
    document.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 5})
    document.save(chat_root / "block.solid.json")
    code, _ = await render(jp_fetch, ALICE, path="block.solid.json")
    assert code == 200 and documents.render_worker.running
    await asyncio.sleep(1.5)
    assert not documents.render_worker.running  # the next render starts a new one
    code, _ = await render(jp_fetch, ALICE, path="block.solid.json", view="top")
    assert code == 200


async def test_a_render_past_its_time_limit_is_stopped(jp_fetch, chat_root: Path, monkeypatch):
    from solidtype_jupyter.server import documents

    _slow_to_render(chat_root / "wheel.solid.json")
    monkeypatch.setattr(documents, "RENDER_TIMEOUT", 0.5)
    code, answer = await render(jp_fetch, ALICE, path="wheel.solid.json")
    assert code == 503, answer
    assert "took longer than 0.5 s and was stopped" in answer["message"], answer
    assert not documents.render_worker.running
    monkeypatch.setattr(documents, "RENDER_TIMEOUT", 120.0)
    document = CadDocument("block")
    document.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 5})
    document.save(chat_root / "block.solid.json")
    code, png = await render(jp_fetch, ALICE, path="block.solid.json")
    assert code == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"


# --- #8: bad paths are refused when the session is created ---------------------------------


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("a" * 5000 + ".solid.json", 422, "at most 1024"),
        ("nul\x00.solid.json", 422, "documentPath"),
        ("tab\there.solid.json", 422, "documentPath"),
        ("x" * 300 + ".solid.json", 422, "documentPath"),
        ("missing/part.solid.json", 404, "no folder 'missing'"),
        ("folder.solid.json", 422, "is a folder"),
    ],
)
async def test_bad_document_paths_are_refused_at_creation(
    chat: ChatClient, jp_fetch, chat_root: Path, path: str, status: int, reason: str
):
    (chat_root / "folder.solid.json").mkdir()
    body = {"context": "editor", "documentPath": path}
    code, _, answer = await chat.call(ALICE, "POST", "sessions", body=body)
    assert code == status and reason in json.dumps(answer), answer
    assert str(chat_root) not in json.dumps(answer)
    code, _, listed = await chat.call(ALICE, "GET", "sessions")
    assert listed["sessions"] == []
    # The picture route answers the same kind of error, never a 500.
    code, answer = await render(jp_fetch, ALICE, path=path)
    assert code in (404, 422), (code, answer)
    assert str(chat_root) not in json.dumps(answer, default=str)


async def test_a_failed_save_names_the_contents_path_only(
    chat: ChatClient, chat_root: Path, script_path: Path
):
    jp_root_dir_real = chat_root.resolve()  # noqa: ASYNC240 (a test's own folder)
    plate(chat_root / "parts" / "gone.solid.json")
    session_id = await chat.session(ALICE, "editor", documentPath="parts/gone.solid.json")
    # The model's turn is chosen from the conversation: one script for both requests.
    write_script(script_path, {"text": "Looking."}, *ADD_SKETCH)
    code, frames = await chat.turn(ALICE, session_id, "Open it")  # the server opens the file
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
    for child in (chat_root / "parts").iterdir():
        child.unlink()
    (chat_root / "parts").rmdir()  # the folder goes away under the open session
    code, frames = await chat.turn(ALICE, session_id, "Add a sketch")
    assert code == 200, frames
    last = frames[-1][1]
    assert last["type"] == "RUN_ERROR", last
    assert last["message"].startswith("parts/gone.solid.json was not saved"), last
    assert str(chat_root) not in everything(frames)
    assert str(jp_root_dir_real) not in everything(frames)


# --- #10: links cannot redirect a save out of the root -------------------------------------


async def test_a_planted_temporary_link_is_never_written_through(
    chat: ChatClient, chat_root: Path, script_path: Path, tmp_path: Path
):
    document = plate(chat_root / "parts" / "p.solid.json")
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched", encoding="utf-8")
    (chat_root / "parts" / "p.solid.json.tmp").symlink_to(outside)
    session_id = await chat.session(ALICE, "editor", documentPath="parts/p.solid.json")
    write_script(script_path, *ADD_SKETCH)
    code, frames = await chat.turn(ALICE, session_id, "Add a sketch")
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
    assert outside.read_text(encoding="utf-8") == "untouched"
    assert features(document) == ["sketch1"] and not document.is_symlink()
    left = sorted(p.name for p in (chat_root / "parts").iterdir())
    assert left == ["p.solid.json", "p.solid.json.tmp"]  # no temporary file stays behind


async def test_documents_that_resolve_outside_the_root_are_refused(
    chat: ChatClient, jp_fetch, chat_root: Path, script_path: Path, tmp_path: Path
):
    elsewhere = tmp_path / "elsewhere"
    plate(elsewhere / "target.solid.json")
    (chat_root / "link.solid.json").symlink_to(elsewhere / "target.solid.json")
    (chat_root / "linked").symlink_to(elsewhere)
    for path in ("link.solid.json", "linked/target.solid.json", "linked/new.solid.json"):
        body = {"context": "editor", "documentPath": path}
        code, _, answer = await chat.call(ALICE, "POST", "sessions", body=body)
        assert code == 404 and str(tmp_path) not in json.dumps(answer), (path, answer)
        code, _ = await render(jp_fetch, ALICE, path=path)
        assert code == 404, path

    # A folder swapped for a link after the session was created: the run refuses to open
    # (or save) the document and nothing is written outside.
    plate(chat_root / "work" / "part.solid.json")
    session_id = await chat.session(BOB, "editor", documentPath="work/part.solid.json")
    (chat_root / "work" / "part.solid.json").unlink()
    (chat_root / "work").rmdir()
    (chat_root / "work").symlink_to(elsewhere)
    write_script(script_path, *ADD_SKETCH)
    code, frames = await chat.turn(BOB, session_id, "Add a sketch")
    assert code == 200, frames
    last = frames[-1][1]
    assert last["type"] == "RUN_ERROR" and "outside the server's root" in last["message"], last
    assert sorted(p.name for p in elsewhere.iterdir()) == ["target.solid.json"]
    assert features(elsewhere / "target.solid.json") == []
    assert str(tmp_path) not in everything(frames)


def test_the_servers_root_is_cut_out_of_errors_and_tool_results(tmp_path: Path):
    from solidtype_jupyter.agent.chat_service import ChatService
    from solidtype_jupyter.protocol import agui

    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "alias").symlink_to(root)
    service = ChatService(lambda: None, None, None, root_dir=tmp_path / "alias")  # type: ignore[arg-type]
    error = agui.RunError(message=f"[Errno 2] No such file: '{root}/parts/x.solid.json'")
    assert (
        service._without_server_paths(error).message
        == "[Errno 2] No such file: 'parts/x.solid.json'"
    )
    result = agui.ToolCallResult(
        message_id="m", tool_call_id="t", content=json.dumps({"error": f"{tmp_path}/alias is busy"})
    )
    assert json.loads(service._without_server_paths(result).content) == {"error": ". is busy"}
    untouched = agui.RunError(message="nothing to hide")
    assert service._without_server_paths(untouched) is untouched

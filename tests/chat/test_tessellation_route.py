"""The tessellation route (issue 23) on a real jupyter_server: meshes and references of a
document revision, ETags and 304s, one tessellation per revision however many viewers ask,
the live revision of a document an agent edits, the picture route's authorization and
errors, and the time limit."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import math
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tornado.httpclient import HTTPClientError

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.protocol.api import DocumentTessellation
from solidtype_jupyter.server import tessellation

from .conftest import ALICE, BOB, ChatClient, ContentsAuthorizer, extension, write_script


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Agents in threads of the server: their edits reach the server's copy of the document
    as Yjs updates, as from a kernel."""
    return {
        "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": ContentsAuthorizer},
        "SolidTypeApp": {
            **jp_server_config["SolidTypeApp"],
            "default_runtime": "thread",
            "agent_pool_size": 0,
        },
    }


@pytest.fixture(autouse=True)
def fresh_cache():
    """Answers are kept per process: each test starts without them."""
    tessellation.cache.clear()
    yield
    tessellation.cache.clear()


def plate(path: Path, holes: int = 2) -> Path:
    """A 60 x 40 x 8 plate with ``holes`` holes of 6 mm: planes and cylinders."""
    document = CadDocument("plate")
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 8})
    if holes:
        positions = [[-20 + 40 * i / max(holes - 1, 1), 0] for i in range(holes)]
        document.add_feature({"type": "hole", "positions": positions, "diameter": 6})
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path


async def fetch(
    jp_fetch, user: str = ALICE, headers: dict[str, str] | None = None, **params: str
) -> tuple[int, dict[str, str], Any]:
    try:
        response = await jp_fetch(
            "solidtype",
            "api",
            "documents",
            "tessellation",
            params=params,
            headers={"X-Test-User": user, **(headers or {})},
            request_timeout=300,
        )
    except HTTPClientError as exc:
        assert exc.response is not None
        response = exc.response
    body = response.body or b""
    parsed = json.loads(body) if body else None
    return response.code, dict(response.headers), parsed


def decoded(buffer: dict[str, Any]) -> np.ndarray:
    assert buffer["codec"] == "b64"
    return np.frombuffer(base64.b64decode(buffer["buffer"]), dtype=buffer["dtype"])


def leaves(shapes: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for part in shapes["parts"]:
        found += leaves(part) if "parts" in part else [part]
    return found


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


async def test_faces_and_edges_line_up_with_their_references(jp_fetch, chat_root: Path):
    plate(chat_root / "parts" / "plate.solid.json")
    code, headers, answer = await fetch(jp_fetch, path="parts/plate.solid.json")
    assert code == 200, answer
    assert headers["Content-Type"].startswith("application/json")
    DocumentTessellation.model_validate(answer)  # the published schema
    assert answer["path"] == "parts/plate.solid.json"
    assert (answer["deviation"], answer["angular_tolerance"]) == (0.1, 0.2)
    assert answer["revision"] == CadDocument.load(chat_root / "parts/plate.solid.json").revision
    [part] = leaves(answer["shapes"])
    assert part["name"] == "body1" and part["id"] in answer["references"]
    mesh = {name: decoded(value) for name, value in part["shape"].items()}
    references = answer["references"][part["id"]]
    faces, edges = references["faces"], references["edges"]
    assert len(faces) == len(mesh["triangles_per_face"]) == 6 + 2  # 6 planes, 2 holes
    assert len(edges) == len(mesh["segments_per_edge"])
    assert {f["kind"] for f in faces} == {"face"} and {e["kind"] for e in edges} == {"edge"}
    assert all(item["body"] == "body1" for item in faces + edges)

    vertices = mesh["vertices"].reshape(-1, 3).astype(float)
    triangles = mesh["triangles"].reshape(-1, 3)
    starts = np.concatenate([[0], np.cumsum(mesh["triangles_per_face"])])
    for index, face in enumerate(faces):
        corners = vertices[triangles[starts[index] : starts[index + 1]]]
        crosses = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        area = float(np.linalg.norm(crosses, axis=1).sum() / 2)
        assert math.isclose(area, face["area"], rel_tol=0.02), (index, area, face)
        if face["type"] == "PLANE":  # the triangles face the way the face's normal does
            assert np.dot(_unit(crosses.sum(axis=0)), face["normal"]) > 0.999, (index, face)
    # The largest range (the top or bottom face, around the holes) is a planar cap.
    largest = faces[int(np.argmax(mesh["triangles_per_face"]))]
    assert largest["type"] == "PLANE" and abs(largest["normal"][2]) == 1.0
    assert math.isclose(largest["area"], 60 * 40 - 2 * math.pi * 9, rel_tol=1e-6)

    points = mesh["edges"].reshape(-1, 2, 3).astype(float)
    starts = np.concatenate([[0], np.cumsum(mesh["segments_per_edge"])])
    for index, edge in enumerate(edges):
        segments = points[starts[index] : starts[index + 1]]
        length = float(np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1).sum())
        assert math.isclose(length, edge["length"], rel_tol=0.02), (index, length, edge)


async def test_an_etag_answers_304_and_one_tessellation_serves_every_viewer(
    jp_fetch, chat_root: Path
):
    plate(chat_root / "plate.solid.json")
    computed = tessellation.cache.computed
    viewers = [fetch(jp_fetch, path="plate.solid.json") for _ in range(5)]
    answers = await asyncio.gather(*viewers)
    assert [code for code, _, _ in answers] == [200] * 5
    assert tessellation.cache.computed == computed + 1  # five viewers, one tessellation
    code, headers, first = answers[0]
    tag = headers["Etag"]
    assert tag.startswith(f'"{first["revision"]}-') and headers["Cache-Control"] == "no-cache"
    assert len({h["Etag"] for _, h, _ in answers}) == 1
    assert headers.get("Content-Encoding") is None  # tornado's client decoded the gzip

    code, headers, body = await fetch(
        jp_fetch, path="plate.solid.json", headers={"If-None-Match": tag}
    )
    assert code == 304 and body is None and headers["Etag"] == tag
    code, _, again = await fetch(jp_fetch, path="plate.solid.json")
    assert code == 200 and again == first and tessellation.cache.computed == computed + 1
    # Another tolerance is another mesh (and tag); a stale tag gets the new answer.
    code, headers, coarse = await fetch(jp_fetch, path="plate.solid.json", deviation="0.5")
    assert code == 200 and coarse["deviation"] == 0.5 and headers["Etag"] != tag
    assert tessellation.cache.computed == computed + 2
    plate(chat_root / "plate.solid.json", holes=3)
    code, headers, changed = await fetch(
        jp_fetch, path="plate.solid.json", headers={"If-None-Match": tag}
    )
    assert code == 200 and changed["revision"] != first["revision"] and headers["Etag"] != tag
    [part] = leaves(changed["shapes"])
    assert len(changed["references"][part["id"]]["faces"]) == 6 + 3


async def test_a_gzip_client_gets_the_compressed_answer(jp_fetch, chat_root: Path):
    plate(chat_root / "plate.solid.json")
    computed = tessellation.cache.computed

    async def raw(encoding: str, tag: str | None = None) -> Any:
        headers = {"X-Test-User": ALICE, "Accept-Encoding": encoding}
        if tag is not None:
            headers["If-None-Match"] = tag
        return await jp_fetch(
            "solidtype",
            "api",
            "documents",
            "tessellation",
            params={"path": "plate.solid.json"},
            headers=headers,
            decompress_response=False,
            request_timeout=300,
        )

    response = await raw("gzip")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Etag"].endswith('-gzip"')
    answer = json.loads(gzip.decompress(response.body))
    assert answer["path"] == "plate.solid.json"
    plain = await raw("identity")
    assert "Content-Encoding" not in plain.headers and json.loads(plain.body) == answer
    assert tessellation.cache.computed == computed + 1
    # Either coding's tag is current.
    for tag in (response.headers["Etag"], plain.headers["Etag"]):
        with pytest.raises(HTTPClientError) as info:
            await raw("gzip", tag)
        assert info.value.code == 304


async def test_a_document_without_a_solid_has_no_shapes(jp_fetch, chat_root: Path):
    document = CadDocument("empty")
    document.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    document.save(chat_root / "sketch.solid.json")
    code, _, answer = await fetch(jp_fetch, path="sketch.solid.json")
    assert code == 200, answer
    assert answer["shapes"] is None and answer["references"] == {}


async def test_the_live_revision_of_a_document_an_agent_edits(
    chat: ChatClient, jp_fetch, jp_serverapp, chat_root: Path, script_path: Path
):
    path = plate(chat_root / "plate.solid.json", holes=0)
    code, headers, before = await fetch(jp_fetch, path="plate.solid.json")
    assert code == 200
    session = await chat.session(ALICE, "editor", documentPath="plate.solid.json")
    write_script(
        script_path,
        {"tool_calls": [{"name": "hole", "arguments": {"positions": [[0, 0]], "diameter": 10}}]},
        {"text": "A hole."},
    )
    code, frames = await chat.turn(ALICE, session, "drill a hole")
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
    live = extension(jp_serverapp).chat.open_document(path.resolve())
    assert live is not None and live.revision != before["revision"]
    code, headers, after = await fetch(
        jp_fetch, path="plate.solid.json", headers={"If-None-Match": headers["Etag"]}
    )
    assert code == 200 and after["revision"] == live.revision
    [part] = leaves(after["shapes"])
    faces = after["references"][part["id"]]["faces"]
    assert [f["type"] for f in faces].count("CYLINDER") == 1 and len(faces) == 7
    # The side panel asks by session: the same document, named by its contents path.
    code, _, by_session = await fetch(jp_fetch, session=session)
    assert code == 200 and by_session == after
    for user, asked in [(BOB, session), (ALICE, str(uuid.uuid4())), (ALICE, "not-a-uuid")]:
        code, _, answer = await fetch(jp_fetch, user, session=asked)
        assert code == 404, answer  # another user's session is as unknown as a missing one
    code, _, answer = await fetch(jp_fetch, session="x" * 4000)
    assert code == 404 and len(answer["message"]) < 80, answer  # quoted cut short
    dashboard = await chat.session(ALICE, "dashboard")
    code, _, answer = await fetch(jp_fetch, session=dashboard)
    assert code == 404 and "has no document" in answer["message"], answer
    # The file changed behind the session's back: the route serves what the agent edits.
    plate(path, holes=3)
    code, _, served = await fetch(jp_fetch, path="plate.solid.json")
    assert code == 200 and served["revision"] == live.revision


async def test_authorization_paths_and_tolerances(jp_fetch, chat_root: Path, denied):
    plate(chat_root / "plate.solid.json")
    (chat_root / "folder.solid.json").mkdir()
    denied[BOB] = {"read"}
    code, _, answer = await fetch(jp_fetch, BOB, path="plate.solid.json")
    assert code == 403, answer
    cases = [
        ({"path": "missing.solid.json"}, 404),
        ({"path": "../outside.solid.json"}, 422),
        ({"path": "plate.json"}, 422),
        ({"path": ""}, 422),
        ({"path": "folder.solid.json"}, 422),
        ({"path": "plate.solid.json", "deviation": "0"}, 422),
        ({"path": "plate.solid.json", "deviation": "nan"}, 422),
        ({"path": "plate.solid.json", "deviation": "fine"}, 422),
        ({"path": "plate.solid.json", "angular_tolerance": "3"}, 422),
    ]
    for params, expected in cases:
        code, _, answer = await fetch(jp_fetch, **params)
        assert code == expected, (params, answer)
        assert answer["message"], answer
    state = {
        "format": "solidtype-document",
        "version": 1,
        "name": "unbuildable",
        "features": [{"type": "extrude", "id": "extrude1", "sketch": "sketch9", "distance": 5}],
    }
    (chat_root / "unbuildable.solid.json").write_text(json.dumps(state), encoding="utf-8")
    started = tessellation.cache.started
    for _ in range(2):  # a revision that does not build is rebuilt once, not at every poll
        code, _, answer = await fetch(jp_fetch, path="unbuildable.solid.json")
        assert code == 422 and "does not build" in answer["message"], answer
        assert "sketch9" in answer["message"], answer
    assert tessellation.cache.started == started + 1
    (chat_root / "broken.solid.json").write_text("{not json", encoding="utf-8")
    code, _, answer = await fetch(jp_fetch, path="broken.solid.json")
    assert code == 422 and "broken.solid.json" in answer["message"], answer
    assert str(chat_root) not in json.dumps(answer)
    outside = chat_root.parent / "outside.solid.json"
    plate(outside)
    (chat_root / "link.solid.json").symlink_to(outside)
    code, _, answer = await fetch(jp_fetch, path="link.solid.json")
    assert code == 404, answer


async def test_a_tessellation_past_its_time_limit_is_stopped(
    jp_fetch, chat_root: Path, monkeypatch
):
    document = CadDocument("wheel")
    document.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 100}]})
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 10})
    document.add_feature({"type": "hole", "positions": [[90, 0]], "diameter": 3})
    document.add_feature({"type": "pattern", "source": "hole1", "kind": "circular", "count": 120})
    document.save(chat_root / "wheel.solid.json")
    monkeypatch.setattr(tessellation, "TESSELLATION_TIMEOUT", 0.5)
    monkeypatch.setattr(tessellation, "TIMEOUT_REMEMBERED", 3.0)
    code, _, answer = await fetch(jp_fetch, path="wheel.solid.json")
    assert code == 503, answer
    assert "took longer than 0.5 s and was stopped" in answer["message"], answer
    assert not tessellation.worker.running
    monkeypatch.setattr(tessellation, "TESSELLATION_TIMEOUT", 120.0)
    # A view polls each second: the revision that timed out is answered at once, without
    # starting the worker again, until TIMEOUT_REMEMBERED has passed.
    started = tessellation.cache.started
    code, _, again = await fetch(jp_fetch, path="wheel.solid.json")
    assert code == 503 and again["message"] == answer["message"], again
    assert tessellation.cache.started == started and not tessellation.worker.running
    await asyncio.sleep(3.0)
    monkeypatch.setattr(tessellation, "TESSELLATION_TIMEOUT", 0.5)
    code, _, answer = await fetch(jp_fetch, path="wheel.solid.json")
    assert code == 503 and tessellation.cache.started == started + 1, answer  # tried again
    monkeypatch.setattr(tessellation, "TESSELLATION_TIMEOUT", 120.0)
    plate(chat_root / "plate.solid.json")
    code, _, answer = await fetch(jp_fetch, path="plate.solid.json")
    assert code == 200 and answer["shapes"] is not None  # a new worker


async def test_the_tessellation_worker_stops_when_idle(jp_fetch, chat_root: Path, monkeypatch):
    monkeypatch.setattr(tessellation, "TESSELLATION_WORKER_IDLE", 0.5)
    plate(chat_root / "plate.solid.json", holes=1)
    code, _, _ = await fetch(jp_fetch, path="plate.solid.json")
    assert code == 200 and tessellation.worker.running
    await asyncio.sleep(1.5)
    assert not tessellation.worker.running  # the next request starts a new one
    code, _, answer = await fetch(jp_fetch, path="plate.solid.json", deviation="0.2")
    assert code == 200 and answer["deviation"] == 0.2 and tessellation.worker.running

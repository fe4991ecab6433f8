"""The routes the JupyterLab side panel adds to the chat API: editor sessions on a file path,
the conversation in pages, and pictures of ``*.solid.json`` documents."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from solidtype_jupyter.cad import CadDocument

from .conftest import ALICE, BOB, ChatClient, extension, write_script


async def test_an_editor_session_on_a_document_path(
    chat: ChatClient, jp_serverapp, chat_root: Path
):
    (chat_root / "parts").mkdir()  # the file may be missing (the first change creates it)
    code, _, body = await chat.call(
        ALICE, "POST", "sessions", body={"context": "editor", "documentPath": "parts/a.solid.json"}
    )
    assert code == 201, body
    document = await extension(jp_serverapp).catalog.get_document(
        ALICE, uuid.UUID(body["documentId"])
    )
    assert document is not None and document.path == "parts/a.solid.json"
    # The same file again: the same catalogue entry.
    again = await chat.call(
        ALICE, "POST", "sessions", body={"context": "editor", "documentPath": "parts/a.solid.json"}
    )
    assert again[2]["documentId"] == body["documentId"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"context": "editor", "documentPath": "../outside.solid.json"}, "not a path inside"),
        ({"context": "editor", "documentPath": "notes.txt"}, ".solid.json"),
        ({"context": "dashboard", "documentPath": "a.solid.json"}, "editor context"),
        (
            {
                "context": "editor",
                "documentPath": "a.solid.json",
                "documentId": "8d7f2c1e-62d4-4a0c-9b7e-3f0a3b2f3d11",
            },
            "not both",
        ),
    ],
)
async def test_bad_document_paths_are_refused(chat: ChatClient, body, reason):
    code, _, answer = await chat.call(ALICE, "POST", "sessions", body=body)
    assert code == 422 and reason in str(answer), answer


async def test_the_conversation_in_pages(chat: ChatClient, script_path: Path):
    write_script(script_path, {"text": "One."}, {"text": "Two."}, {"text": "Three."})
    session_id = await chat.session(ALICE)
    for text in ("a", "b", "c"):
        code, frames = await chat.turn(ALICE, session_id, text)
        assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED"
    params = {"view": "transcript", "limit": "4"}
    code, _, page = await chat.call(ALICE, "GET", "session", session_id, params=params)
    assert code == 200
    assert (page["total"], page["first"], len(page["messages"])) == (6, 2, 4)
    assert [m["content"] for m in page["messages"]] == ["b", "Two.", "c", "Three."]
    assert page["activeRun"] is None and page["interrupts"] == [] and page["offset"]
    params = {"view": "transcript", "before": "2"}
    code, _, older = await chat.call(ALICE, "GET", "session", session_id, params=params)
    assert (older["first"], [m["content"] for m in older["messages"]]) == (0, ["a", "One."])
    for bad in (
        {"view": "html"},
        {"view": "transcript", "limit": "0"},
        {"view": "transcript", "before": "x"},
    ):
        code, _, _ = await chat.call(ALICE, "GET", "session", session_id, params=bad)
        assert code == 422, bad
    code, _, _ = await chat.call(BOB, "GET", "session", session_id, params=params)
    assert code == 404


async def render(jp_fetch, user: str, **params: str) -> tuple[int, bytes, str]:
    try:
        response = await jp_fetch(
            "solidtype",
            "api",
            "documents",
            "render",
            params=params,
            headers={"X-Test-User": user},
        )
    except HTTPClientError as exc:
        assert exc.response is not None
        response = exc.response
    return response.code, response.body or b"", response.headers.get("Content-Type", "")


async def test_pictures_of_documents(jp_fetch, jp_root_dir: Path):
    document = CadDocument("plate")
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 8})
    (jp_root_dir / "parts").mkdir()
    document.save(jp_root_dir / "parts" / "plate.solid.json")
    (jp_root_dir / "broken.solid.json").write_text("{not json")

    code, body, content_type = await render(
        jp_fetch, ALICE, path="parts/plate.solid.json", width="200", height="150"
    )
    assert code == 200 and content_type == "image/png" and body.startswith(b"\x89PNG")
    top = await render(
        jp_fetch, ALICE, path="parts/plate.solid.json", view="top", width="200", height="150"
    )
    assert top[0] == 200 and top[1] != body

    assert (await render(jp_fetch, ALICE, path="parts/missing.solid.json"))[0] == 404
    assert (await render(jp_fetch, ALICE, path="../etc/passwd.solid.json"))[0] == 422
    assert (await render(jp_fetch, ALICE, path="parts/plate.txt"))[0] == 422
    assert (await render(jp_fetch, ALICE, path="parts/plate.solid.json", view="sideways"))[0] == 422
    assert (await render(jp_fetch, ALICE, path="parts/plate.solid.json", width="9000"))[0] == 422
    code, body, _ = await render(jp_fetch, ALICE, path="broken.solid.json")
    assert code == 422 and b"broken.solid.json" in body
    # A sketch and no solid yet: said as such (the panels show it), not "not available here".
    sketch = CadDocument("sketch")
    sketch.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    sketch.save(jp_root_dir / "sketch.solid.json")
    code, body, _ = await render(jp_fetch, ALICE, path="sketch.solid.json")
    assert code == 422 and b"sketch.solid.json: the document has no solid yet" in body, body


async def test_the_picture_of_a_sessions_document(chat: ChatClient, jp_fetch, jp_root_dir: Path):
    document = CadDocument("disc")
    document.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 10}]})
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 2})
    document.save(jp_root_dir / "disc.solid.json")
    _, _, session = await chat.call(
        ALICE, "POST", "sessions", body={"context": "editor", "documentPath": "disc.solid.json"}
    )
    code, body, content_type = await render(jp_fetch, ALICE, session=session["id"])
    assert code == 200 and content_type == "image/png" and body.startswith(b"\x89PNG")
    assert (await render(jp_fetch, BOB, session=session["id"]))[0] == 404
    dashboard = await chat.session(ALICE)
    code, body, _ = await render(jp_fetch, ALICE, session=dashboard)
    assert code == 404 and b"has no document" in body

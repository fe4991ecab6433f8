"""An editor session works on its CAD document: session → catalog → ``*.solid.json`` →
``CadDocument``; every tool result that changed the model is saved to the file."""

from __future__ import annotations

import json
from pathlib import Path

from solidtype_jupyter.cad import CadDocument

from .conftest import ALICE, extension, write_script
from .test_chat_routes import types


async def test_tools_edit_and_save_the_session_document(
    chat, jp_serverapp, script_path, chat_root: Path
):
    write_script(
        script_path,
        {"text": "Sketching.",
         "tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]},
        {"tool_calls": [{"name": "add_rectangle",
                         "arguments": {"sketch_id": "sketch1", "width": 60, "height": 40}}]},
        {"tool_calls": [{"name": "extrude", "arguments": {"sketch_id": "sketch1", "distance": 8}}]},
        {"text": "A 60 x 40 x 8 plate."},
    )  # fmt: skip
    catalog = extension(jp_serverapp).catalog
    document = await catalog.register_document(ALICE, "parts/plate.solid.json")
    (chat_root / "parts").mkdir()
    session_id = await chat.session(ALICE, "editor", documentId=str(document.id))
    code, frames = await chat.turn(ALICE, session_id, "Make a 60x40x8 plate")
    assert code == 200, frames
    results = [e for _, e in frames if e["type"] == "TOOL_CALL_RESULT"]
    assert len(results) == 3 and not any(
        (r.get("metadata") or {}).get("solidtype", {}).get("isError") for r in results
    ), results
    assert json.loads(results[-1]["content"])["geometry"]["volume"] == 60 * 40 * 8
    assert types(frames)[-1] == "RUN_FINISHED"
    saved = CadDocument.load(chat_root / "parts" / "plate.solid.json")
    assert [f.id for f in saved.features] == ["sketch1", "extrude1"]
    assert abs(saved.geometry()["volume"] - 60 * 40 * 8) < 1e-6

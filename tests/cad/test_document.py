"""The document: file format, Yjs sync, undo of whole calls, per-feature cache, artefacts."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from PIL import Image

from solidtype_jupyter.cad import CadDocument, DocumentError
from solidtype_jupyter.cad.rebuild import Rebuilder

from .conftest import Session


def _bracket() -> Session:
    s = Session("bracket")
    s.call("set_parameter", name="t", value=6, description="plate thickness")
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 50, "height": 30}])
    s.call("extrude", sketch_id="sketch1", distance="t")
    s.call("hole", positions=[[15, 0], [-15, 0]], diameter=4)
    s.call("fillet", edges=["|Z"], radius=2)
    return s


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    s = _bracket()
    path = s.doc.save(tmp_path / "bracket.solid.json")
    text = path.read_text()
    data = json.loads(text)
    assert data["format"] == "solidtype-document" and data["version"] == 1
    assert data["parameters"] == {"t": {"value": 6.0, "description": "plate thickness"}}
    assert [f["id"] for f in data["features"]] == ["sketch1", "extrude1", "hole1", "fillet1"]
    assert "\n  " in text  # indented, readable
    loaded = CadDocument.load(path)
    assert loaded.to_json() == s.doc.to_json()
    assert loaded.shape.val().Volume() == pytest.approx(s.volume())
    assert not loaded.can_undo  # loading is not an undoable step


def test_load_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.solid.json"
    bad.write_text("{not json")
    with pytest.raises(DocumentError, match="cannot read"):
        CadDocument.load(bad)
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(DocumentError, match="not a solidtype document"):
        CadDocument.load(bad)
    broken = {
        "features": [
            {"id": "sketch1", "type": "sketch", "entities": [{"kind": "circle", "radius": 5}]},
            {"id": "extrude1", "type": "extrude", "sketch": "sketch1", "distance": -1},
        ]
    }
    bad.write_text(json.dumps(broken))
    with pytest.raises(DocumentError, match="distance must be greater than 0"):
        CadDocument.load(bad)


def test_yjs_updates_sync_two_documents() -> None:
    s = _bracket()
    peer = CadDocument()
    peer.apply_update(s.doc.get_update())
    assert peer.to_json() == s.doc.to_json()
    assert peer.shape.val().Volume() == pytest.approx(s.volume())
    # an incremental update carries only the change since the peer's state vector
    vector = peer.get_state()
    s.call("set_parameter", name="t", value=10)
    delta = s.doc.get_update(vector)
    assert len(delta) < len(s.doc.get_update())
    peer.apply_update(delta)
    assert peer.parameters == {"t": 10.0}
    assert peer.shape.val().Volume() == pytest.approx(s.volume())


def test_undo_redo_whole_tool_calls() -> None:
    s = _bracket()
    v_fillet = s.volume()
    s.call("create_sketch", face=">Z", entities=[{"kind": "circle", "radius": 3}])
    s.call("extrude", sketch_id="sketch2", distance=5)
    assert s.volume() == pytest.approx(v_fillet + math.pi * 9 * 5)
    s.call("undo")  # the extrude
    assert [f.id for f in s.doc.features][-1] == "sketch2"
    assert s.volume() == pytest.approx(v_fillet)
    s.call("undo")  # the sketch (created with its circle in one call)
    assert [f.id for f in s.doc.features] == ["sketch1", "extrude1", "hole1", "fillet1"]
    s.call("redo")
    s.call("redo")
    assert s.volume() == pytest.approx(v_fillet + math.pi * 9 * 5)
    # a refused call leaves no undo step behind
    s.refused("fillet", edges=["|Z"], radius=100)
    s.call("undo")
    assert [f.id for f in s.doc.features][-1] == "sketch2"


def test_editing_the_last_feature_rebuilds_only_it() -> None:
    s = _bracket()
    out = s.call("modify_feature", feature_id="fillet1", changes={"radius": 3})
    assert out["rebuilt"] == ["fillet1"]
    out = s.call("modify_feature", feature_id="hole1", changes={"diameter": 5})
    assert out["rebuilt"] == ["hole1", "fillet1"]
    s.call("undo")
    assert s.doc.last_executed == []  # the previous state is still cached


def test_rebuilder_cache_is_bounded() -> None:
    rebuilder = Rebuilder(max_steps=3)
    doc = CadDocument("x", rebuilder=rebuilder)
    doc.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 4}]})
    for height in (1, 2, 3, 4, 5):
        doc.add_feature(
            {
                "type": "extrude",
                "sketch": "sketch1",
                "distance": height,
                "id": f"extrude{height}",
                "operation": "new" if height == 1 else "join",
            }
        )
    assert len(rebuilder._cache) <= 3
    assert doc.shape.val().Volume() == pytest.approx(math.pi * 16 * 5)


def test_to_script_is_plain_cadquery() -> None:
    s = _bracket()
    script = s.doc.to_script()
    assert "import solidtype" not in script and "from solidtype" not in script
    assert "import cadquery as cq" in script
    assert "t = 6" in script and "extrude(t, combine=False)" in script
    ns: dict = {}
    exec(compile(script, "part.py", "exec"), ns)
    assert ns["result"].val().Volume() == pytest.approx(s.volume())


def test_render_png_and_cache_per_revision() -> None:
    s = _bracket()
    result = s.raw("render_view", view="iso", width=320, height=240)
    assert result.ok and result.images
    import base64

    png = base64.b64decode(result.images[0].data_base64)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (320, 240)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # a real picture, not a blank frame
    assert s.doc.render("iso", 320, 240) is s.doc.render("iso", 320, 240)
    top = s.doc.render("top", 320, 240)
    assert top != png


def test_tessellation_cached_per_revision() -> None:
    s = _bracket()
    mesh = s.doc.tessellation()
    assert mesh.triangles > 0 and mesh.vertices > 0
    assert s.doc.tessellation() is mesh
    s.call("modify_feature", feature_id="fillet1", changes={"radius": 4})
    changed = s.doc.tessellation()
    assert changed is not mesh
    s.call("undo")  # same content -> same revision -> the cached mesh again
    assert s.doc.tessellation() is mesh


def test_export_step_stl_script(tmp_path: Path) -> None:
    import cadquery as cq

    s = _bracket()
    s.ctx.workdir = tmp_path
    step = s.call("export", format="step")
    assert step["filename"] == "bracket.step"
    imported = cq.importers.importStep(step["path"])
    assert imported.val().Volume() == pytest.approx(s.volume(), rel=1e-6)
    stl = s.call("export", format="stl", filename="b.stl")
    assert Path(stl["path"]).read_bytes()[:5] in (b"solid", Path(stl["path"]).read_bytes()[:5])
    assert Path(stl["path"]).stat().st_size > 1000
    script = s.call("export", format="script")
    assert "result = body1" in script["script"]
    assert "must be a plain file name" in s.refused("export", format="step", filename="../x.step")


def test_a_peer_update_that_does_not_build_is_reported_not_applied_silently() -> None:
    s = _bracket()
    peer = CadDocument()
    peer.apply_update(s.doc.get_update())
    vector = s.doc.get_state()
    # a peer writing straight into the Yjs map, bypassing validation
    with s.doc.ydoc.transaction():
        s.doc._features[1]["distance"] = -4.0
    peer.apply_update(s.doc.get_update(vector))
    assert peer.build_error is not None and "distance must be greater than 0" in peer.build_error
    with pytest.raises(DocumentError, match="does not build"):
        _ = peer.shape
    replica = Session()
    replica.doc = peer
    replica.ctx.document = peer
    result = replica.raw("get_geometry")
    assert result.error is not None and result.error.code == "cad_error"
    # fixing the feature through a tool makes the document build again
    replica.call("modify_feature", feature_id="extrude1", changes={"distance": 5})
    assert peer.build_error is None and peer.shape.val().Volume() > 0


async def test_concurrent_tool_calls_on_one_document_are_serialised() -> None:
    import asyncio

    from solidtype_jupyter.tools import editor_registry

    s = _bracket()  # synchronous calls under the running loop go through a helper thread

    tools = editor_registry()
    calls = [
        tools.execute(
            "create_sketch",
            {"face": ">Z", "entities": [{"kind": "circle", "center": [x, 8], "radius": 2}]},
            s.ctx,
        )
        for x in (-15, 0, 15)
    ]
    results = await asyncio.gather(*calls)
    assert all(r.ok for r in results), [r.error for r in results]
    ids = sorted(r.content["sketch_id"] for r in results)
    assert ids == ["sketch2", "sketch3", "sketch4"]
    assert [f.id for f in s.doc.features][-3:] == ["sketch2", "sketch3", "sketch4"]

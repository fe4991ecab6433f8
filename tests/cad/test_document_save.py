"""``CadDocument.save`` cannot be redirected by links (issue 19 #10) and keeps the file's mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from solidtype_jupyter.cad import CadDocument, DocumentError
from solidtype_jupyter.cad.document import document_file


def _document() -> CadDocument:
    document = CadDocument("part")
    document.set_parameter("width", 10)
    return document


def test_a_link_planted_at_the_old_temporary_name_is_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched", encoding="utf-8")
    (root / "part.solid.json.tmp").symlink_to(outside)
    _document().save(root / "part.solid.json", root=root)
    assert outside.read_text(encoding="utf-8") == "untouched"
    assert CadDocument.load(root / "part.solid.json").parameters == {"width": 10}
    assert sorted(p.name for p in root.iterdir()) == ["part.solid.json", "part.solid.json.tmp"]


def test_documents_whose_real_location_leaves_the_root_are_refused(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / "out.solid.json").symlink_to(elsewhere / "x.solid.json")
    (root / "folder").symlink_to(elsewhere)
    for path in (root / "out.solid.json", root / "folder" / "y.solid.json"):
        with pytest.raises(DocumentError, match="outside the server's root folder") as caught:
            _document().save(path, root=root)
        assert str(tmp_path) not in str(caught.value)
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(DocumentError, match="not a usable file path"):
        document_file(root, "a\x00.solid.json")
    # Without a root the rename replaces the link itself: the write stays in its folder.
    _document().save(root / "out.solid.json")
    assert not (root / "out.solid.json").is_symlink() and list(elsewhere.iterdir()) == []


def test_a_link_inside_the_root_is_saved_at_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias.solid.json").symlink_to(tmp_path / "real" / "part.solid.json")
    _document().save(tmp_path / "alias.solid.json", root=tmp_path)
    assert (tmp_path / "alias.solid.json").is_symlink()
    assert CadDocument.load(tmp_path / "real" / "part.solid.json").parameters == {"width": 10}


def test_the_files_mode_survives_a_save(tmp_path: Path) -> None:
    path = tmp_path / "part.solid.json"
    _document().save(path)
    os.chmod(path, 0o640)
    _document().save(path, root=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_failed_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken.solid.json").mkdir()  # the rename over a folder fails
    with pytest.raises(IsADirectoryError):
        _document().save(tmp_path / "taken.solid.json")
    assert [p.name for p in tmp_path.iterdir()] == ["taken.solid.json"]
    assert list((tmp_path / "taken.solid.json").iterdir()) == []


def test_unreadable_documents_name_the_file_only(tmp_path: Path) -> None:
    (tmp_path / "bad.solid.json").write_text("{not json", encoding="utf-8")
    for name in ("bad.solid.json", "missing.solid.json"):
        with pytest.raises(DocumentError, match=f"cannot read {name}") as caught:
            CadDocument.load(tmp_path / name)
        assert str(tmp_path) not in str(caught.value)


def test_a_merge_without_rebuild_runs_no_cadquery_until_the_model_is_asked_for() -> None:
    """What the server's event loop does with an agent's update (issue 19 #3)."""
    source = _document()
    source.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    source.add_feature({"type": "extrude", "sketch": "sketch1", "distance": "width"})
    replica = CadDocument()
    replica.apply_update(source.get_update(), rebuild=False)
    assert replica.last_executed == [] and replica.revision == source.revision
    assert abs(replica.geometry()["volume"] - source.geometry()["volume"]) < 1e-6
    assert replica.last_executed == ["sketch1", "extrude1"]  # built when first asked for


def test_a_load_without_build_checks_the_format_only(tmp_path: Path) -> None:
    """The server's copy of an agent's document (issue 19 #3): no CadQuery at load."""
    source = _document()
    source.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    source.add_feature({"type": "extrude", "sketch": "sketch1", "distance": "width"})
    source.save(tmp_path / "part.solid.json")
    loaded = CadDocument.load(tmp_path / "part.solid.json", build=False)
    assert loaded.last_executed == [] and loaded.revision == source.revision
    assert loaded.geometry()["volume"] > 0 and loaded.last_executed == ["sketch1", "extrude1"]
    (tmp_path / "bad.solid.json").write_text('{"format": "nope"}', encoding="utf-8")
    with pytest.raises(DocumentError, match="not a solidtype document"):
        CadDocument.load(tmp_path / "bad.solid.json", build=False)

"""The part suite's machinery, shared by every `test_parts*.py` module.

A part is a function that builds a document through the tool API only (a `Session`) and
returns what the result must be (`Expect`): closed-form figures or a hand-written CadQuery
reference. Each module lists its parts in `PARTS` and calls `part_tests(PARTS)`, which
gives it the per-part checks and the script-rebuild check.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cadquery as cq
import pytest

from .conftest import Session

Part = Callable[[Session], "Expect"]


@dataclass
class Expect:
    volume: float | None = None
    area: float | None = None
    faces: int | None = None
    bbox: tuple[float, float, float, float, float, float] | None = None
    reference: cq.Workplane | None = None  # hand-written CadQuery: compare V, A, faces, bbox
    # Relative tolerance on volume and area: exact closed forms are checked to 1e-6; a
    # figure that is itself approximate (a helix's swept volume) may ask up to 1e-3 (0.1%).
    rel: float = 1e-6
    solids: int = 1
    # closed shells per solid: 1 means no internal void (a closed `shell` makes 2)
    shells: int = 1


def build_all(parts: dict[str, Part]) -> dict[str, tuple[Session, Expect] | Exception]:
    """Every part, built once (a failure is kept and re-raised by the part's own test)."""
    out: dict[str, tuple[Session, Expect] | Exception] = {}
    for name, build in parts.items():
        session = Session(name)
        try:
            out[name] = (session, build(session))
        except Exception as exc:  # reported by the part's own test
            out[name] = exc
    return out


def _close(actual: float, expected: float, what: str, name: str, rel: float) -> None:
    assert actual == pytest.approx(expected, rel=rel, abs=1e-6), f"{name}: {what}"


def check_part(session: Session, expect: Expect, name: str) -> None:
    geometry = session.call("get_geometry")["geometry"]
    solids = session.doc.shape.solids().vals()
    assert len(solids) == expect.solids, f"{name}: {len(solids)} solids"
    assert all(s.isValid() for s in solids), f"{name}: invalid solid"
    assert geometry["valid"] is True
    for solid in solids:
        assert len(solid.Shells()) == expect.shells, f"{name}: {len(solid.Shells())} shells"
    volume = sum(s.Volume() for s in solids)
    area = sum(s.Area() for s in solids)
    box = cq.Compound.makeCompound(solids).BoundingBox()
    faces = sum(len(s.Faces()) for s in solids)
    assert geometry["faces"] == faces
    assert geometry["volume"] == pytest.approx(volume, abs=1e-3)
    got = (box.xmin, box.ymin, box.zmin, box.xmax, box.ymax, box.zmax)
    if expect.reference is not None:
        ref = expect.reference.val()
        assert ref.isValid()
        _close(volume, ref.Volume(), "volume vs reference", name, expect.rel)
        _close(area, ref.Area(), "area vs reference", name, expect.rel)
        assert faces == len(ref.Faces()), f"{name}: faces vs reference"
        rb = ref.BoundingBox()
        want = (rb.xmin, rb.ymin, rb.zmin, rb.xmax, rb.ymax, rb.zmax)
        assert got == pytest.approx(want, abs=1e-2), f"{name}: bbox {got} vs reference {want}"
    if expect.volume is not None:
        _close(volume, expect.volume, "volume", name, expect.rel)
    if expect.area is not None:
        _close(area, expect.area, "area", name, expect.rel)
    if expect.faces is not None:
        assert faces == expect.faces, f"{name}: {faces} faces, expected {expect.faces}"
    if expect.bbox is not None:
        # OCCT's bounding boxes may be padded by a tolerance; 0.01 mm is far below a feature
        assert got == pytest.approx(expect.bbox, abs=1e-2), f"{name}: bbox {got}"


_RUNNER = """
import json, runpy, sys
out = {}
for path in sys.argv[1:]:
    result = runpy.run_path(path)["result"]
    solids = result.solids().vals()
    out[path] = {"volume": sum(s.Volume() for s in solids),
                 "valid": all(s.isValid() for s in solids)}
print(json.dumps(out))
"""


def check_scripts_rebuild(built: dict[str, Any], tmp_path: Path) -> None:
    """`to_script()` of every part, run by plain CadQuery in one fresh subprocess."""
    expected: dict[str, float] = {}
    for name, entry in built.items():
        if isinstance(entry, Exception):
            continue
        session, _ = entry
        path = tmp_path / f"{name}.py"
        path.write_text(session.doc.to_script(), encoding="utf-8")
        expected[str(path)] = session.volume()
    assert expected, "no part was built"
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, *expected],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for path, volume in expected.items():
        assert results[path]["valid"], path
        assert results[path]["volume"] == pytest.approx(volume, rel=1e-9), path


def part_tests(parts: dict[str, Part]) -> tuple[Any, Any, Any]:
    """The fixture and the two tests a `test_parts*.py` module exposes for its `PARTS`."""

    @pytest.fixture(scope="module")
    def built() -> dict[str, tuple[Session, Expect] | Exception]:
        return build_all(parts)

    @pytest.mark.parametrize("name", list(parts))
    def test_part(built: dict[str, Any], name: str) -> None:
        entry = built[name]
        if isinstance(entry, Exception):
            raise entry
        check_part(*entry, name)

    def test_scripts_rebuild_in_a_fresh_interpreter(built: dict[str, Any], tmp_path: Path) -> None:
        check_scripts_rebuild(built, tmp_path)

    return built, test_part, test_scripts_rebuild_in_a_fresh_interpreter


def all_part_names() -> list[str]:
    """The names of every part of every `test_parts*.py` module (the suite's size)."""
    names: list[str] = []
    for module in sorted(Path(__file__).parent.glob("test_parts*.py")):
        names += list(importlib.import_module(f"{__package__}.{module.stem}").PARTS)
    return names

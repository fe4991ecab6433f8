"""The 3D view of a 1,001-face part in a real headless Chromium (SwiftShader WebGL): the
page's own share of a new model (parse and scene, ``data-build-ms``) for BENCHMARKS.md's
tessellation section, written to test-artifacts/view3d-build-ms-1001.txt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from solidtype_jupyter.cad import CadDocument

from .conftest import ARTIFACTS, Lab
from .test_view3d import DOC_VIEW, view_data, wait_shown


def write_pocketed_plate(path: Path, count: int = 199, columns: int = 20) -> None:
    """A plate with ``count`` square pockets: 6 + 5 * count faces (benchmarks/tessellation.py's
    1,001-face part), planar, so its server side is quick and the page's part shows."""
    document = CadDocument("pockets")
    rows = -(-count // columns)
    width, height = columns * 10 + 10, rows * 10 + 10
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": width, "height": height}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 8})
    pockets = [
        {
            "kind": "rectangle",
            "center": [
                -width / 2 + 10 + 10 * (i % columns),
                -height / 2 + 10 + 10 * (i // columns),
            ],
            "width": 6,
            "height": 6,
        }
        for i in range(count)
    ]
    document.add_feature({"type": "sketch", "face": ">Z", "entities": pockets})
    document.add_feature(
        {"type": "extrude", "sketch": "sketch2", "distance": 3, "operation": "cut"}
    )
    document.save(path)


def test_a_thousand_face_part_is_drawn_and_its_build_time_recorded(
    lab: Lab, browser_page: Any
) -> None:
    page = browser_page
    write_pocketed_plate(lab.root / "pockets.solid.json")
    page.goto(lab.open("pockets.solid.json"))
    wait_shown(page, DOC_VIEW)
    data = view_data(page, DOC_VIEW)
    assert data["faces"] == "1001", data
    build_ms = int(data["buildMs"])
    assert 0 <= build_ms < 10_000, data  # the page's part, not the server's
    page.screenshot(path=str(ARTIFACTS / "view3d-pockets-1001.png"), full_page=False)
    (ARTIFACTS / "view3d-build-ms-1001.txt").write_text(f"{build_ms}\n", encoding="utf-8")

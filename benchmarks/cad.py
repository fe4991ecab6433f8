"""CAD benchmark: incremental vs full rebuild of a 50-feature model, tessellation, PNG, memory.

The model: a plate (sketch + extrude) followed by pairs of (sketch on the plate's top,
pocket cut), up to --features features. Timings:

- full rebuild: every feature from an empty per-feature cache;
- incremental rebuild: the last feature edited, features before it from the cache
  (the rebuild alone, and the whole `modify_feature` tool call with Yjs write and figures);
- tessellation (ocp-tessellate) first and cached; PNG render (VTK offscreen) first and next;
- memory: process RSS after each stage, and tracemalloc's Python-heap peak of a full rebuild
  (OCCT's own C++ allocations are only visible in RSS).

Path and plane features (issue 20):
- the rebuild of one sweep (a 6-turn spring; a bent rod), loft (smooth through 3 sections;
  ruled between 2) and split (a block with a swept handle, cut in two by a datum plane), each
  the last feature of its part with every feature before it cached;
- a 50-feature part of sweeps and lofts (a plate, then groups of: a hook swept along a
  line-arc-line path, a boss lofted from a square to a circle, a hole): the rebuild after
  editing its last feature vs after editing its first (every feature runs again).

Usage: .venv/bin/python benchmarks/cad.py [--features 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import psutil

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.cad.rebuild import Rebuilder
from solidtype_jupyter.tools import ToolContext, editor_registry


def rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs


def new_document(name: str) -> tuple[CadDocument, ToolContext, Callable[..., Any]]:
    """A document and a function that calls editor tools on it, as the agent does."""
    registry = editor_registry()
    doc = CadDocument(name)
    ctx = ToolContext(user_id="bench", document=doc)

    def call(tool: str, **args: Any) -> Any:
        result = registry.execute_sync(tool, args, ctx)
        if not result.ok:
            raise RuntimeError(f"{tool}: {result.error}")
        return result.content

    return doc, ctx, call


def build_model(features: int) -> tuple[CadDocument, ToolContext]:
    doc, ctx, call = new_document("bench")

    call("create_sketch", entities=[{"kind": "rectangle", "width": 400, "height": 400}])
    call("extrude", sketch_id="sketch1", distance=20)
    pockets = (features - 2) // 2
    columns = 7
    for i in range(pockets):
        x = -150 + (i % columns) * 50
        y = -150 + (i // columns) * 50
        call(
            "create_sketch",
            face="extrude1.top",
            entities=[{"kind": "rectangle", "center": [x, y], "width": 20, "height": 20}],
        )
        call("extrude", sketch_id=f"sketch{i + 2}", distance=3 + (i % 5), operation="cut")
    return doc, ctx


# --- path and plane features ------------------------------------------------------------


def _hook_path(x: float, y: float) -> list[dict[str, Any]]:
    """Up 20 from the plate's top, a quarter turn of radius 10, then 20 along +X."""
    k = 10 / math.sqrt(2)
    return [
        {"kind": "line", "end": [x, y, 40]},
        {"kind": "arc", "mid": [x + 10 - k, y, 40 + k], "end": [x + 10, y, 50]},
        {"kind": "line", "end": [x + 30, y, 50]},
    ]


def build_path_model(features: int) -> CadDocument:
    """A plate, then groups of (2 sketches + lofted boss, hole, sketch + swept hook)."""
    doc, _, call = new_document("bench-paths")
    call("create_sketch", entities=[{"kind": "rectangle", "width": 400, "height": 400}])
    call("extrude", sketch_id="sketch1", distance=20)
    group = 0
    while len(doc.features) < features:
        x, y = -170 + (group % 4) * 100, -150 + (group // 4) * 100
        if features - len(doc.features) >= 3:
            bottom = call(
                "create_sketch",
                offset=20,
                entities=[{"kind": "rectangle", "center": [x + 50, y], "width": 20, "height": 20}],
            )
            top = call(
                "create_sketch",
                offset=45,
                entities=[{"kind": "circle", "center": [x + 50, y], "radius": 6}],
            )
            call("loft", sections=[bottom["sketch_id"], top["sketch_id"]])
        if len(doc.features) < features:
            call("hole", face="extrude1.bottom", positions=[[x, y + 40]], diameter=6)
        if features - len(doc.features) >= 2:
            out = call(
                "create_sketch",
                offset=20,
                entities=[{"kind": "circle", "center": [x, y], "radius": 4}],
            )
            call("sweep", sketch_id=out["sketch_id"], path_start=[x, y, 20], path=_hook_path(x, y))
        group += 1
    return doc


def last_feature_time(doc: CadDocument, repeat: int) -> float:
    """Median time to rebuild a document's last feature, every feature before it cached."""
    features, params = doc.state().features, doc.parameters
    runs = []
    for _ in range(repeat):
        rebuilder = Rebuilder()
        rebuilder.build(features[:-1], params)
        start = time.perf_counter()
        result = rebuilder.build(features, params)
        runs.append(time.perf_counter() - start)
        assert result.executed == [features[-1].id], result.executed
    return statistics.median(runs)


def feature_parts() -> dict[str, CadDocument]:
    """Small parts, each ending in the feature whose rebuild is timed."""
    parts: dict[str, CadDocument] = {}
    doc, _, call = new_document("spring")
    call("create_sketch", plane="XZ", entities=[{"kind": "circle", "center": [10, 0], "radius": 1}])
    call("sweep", sketch_id="sketch1", helix={"pitch": 5, "turns": 6, "radius": 10})
    parts["sweep_helix_6_turns"] = doc
    doc, _, call = new_document("rod")
    call("create_sketch", entities=[{"kind": "circle", "radius": 4}])
    call("sweep", sketch_id="sketch1", path_start=[0, 0, 0], path=_hook_path(0, 0))
    parts["sweep_line_arc_line"] = doc
    doc, _, call = new_document("vase")
    for radius, z in ((10, 0), (15, 20), (10, 40)):
        call("create_sketch", offset=z, entities=[{"kind": "circle", "radius": radius}])
    call("loft", sections=["sketch1", "sketch2", "sketch3"])
    parts["loft_smooth_3_sections"] = doc
    doc, _, call = new_document("transition")
    call("create_sketch", entities=[{"kind": "rectangle", "width": 40, "height": 40}])
    call("create_sketch", offset=30, entities=[{"kind": "circle", "radius": 15}])
    call("loft", sections=["sketch1", "sketch2"], ruled=True)
    parts["loft_ruled_square_to_circle"] = doc
    doc, _, call = new_document("split")
    call("create_sketch", entities=[{"kind": "rectangle", "width": 80, "height": 40}])
    call("extrude", sketch_id="sketch1", distance=10)
    call("create_sketch", offset=10, entities=[{"kind": "circle", "center": [-10, 0], "radius": 4}])
    call("sweep", sketch_id="sketch2", path_start=[-10, 0, 10], path=_hook_path(-10, 0))
    datum = call("datum_plane", plane="YZ", offset=5)
    call("split", datum=datum["datum_id"], keep="both")
    parts["split_block_with_handle"] = doc
    return parts


def path_figures(features: int, repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, doc in feature_parts().items():
        figures[f"rebuild_{name}_s"] = round(last_feature_time(doc, repeat), 4)

    start = time.perf_counter()
    doc = build_path_model(features)
    build = time.perf_counter() - start
    state = doc.state()
    feats, params = state.features, doc.parameters
    assert len(feats) == features, len(feats)
    kinds = [f.type for f in feats]
    warm = Rebuilder()
    warm.build(feats, params)
    widths = iter(range(1, 10_000))

    def edit_first() -> None:
        first = feats[0].model_copy(deep=True)
        first.entities[0].width = 400 + next(widths) * 1e-3  # type: ignore[attr-defined]
        result = warm.build([first, *feats[1:]], params)
        assert len(result.executed) == features, len(result.executed)

    lengths = iter(range(1, 10_000))
    last = feats[-1]
    assert last.type == "sweep", f"the model must end with a sweep (ends with {last.type})"

    def edit_last() -> None:
        # the hook's last run a little longer each time (a new value: never from the cache)
        changed = last.model_copy(deep=True)
        end = changed.path[-1].end  # type: ignore[attr-defined]
        changed.path[-1].end = (end[0] + next(lengths) * 1e-3, end[1], end[2])  # type: ignore[attr-defined]
        result = warm.build([*feats[:-1], changed], params)
        assert result.executed == [last.id], result.executed

    first_s, _ = timed(edit_first, max(1, repeat // 2))
    last_s, _ = timed(edit_last, repeat)
    geometry = doc.geometry()
    figures.update(
        {
            "paths_model_features": features,
            "paths_model_sweeps": kinds.count("sweep"),
            "paths_model_lofts": kinds.count("loft"),
            "paths_model_faces": geometry["faces"],
            "paths_model_valid": geometry["valid"],
            "paths_model_build_through_tools_s": round(build, 3),
            "paths_model_edit_first_rebuild_s": round(first_s, 4),
            "paths_model_edit_last_rebuild_s": round(last_s, 4),
            "paths_model_speedup": round(first_s / last_s, 1),
        }
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    parser.add_argument(
        "--only-paths", action="store_true", help="only the sweep/loft/split figures"
    )
    opts = parser.parse_args()
    if opts.only_paths:
        figures = path_figures(opts.features, opts.repeat)
        figures.update({"python": platform.python_version(), "cpus": os.cpu_count()})
        _print(figures, opts.json)
        return

    rss_start = rss_mb()
    start = time.perf_counter()
    doc, ctx = build_model(opts.features)
    build_via_tools = time.perf_counter() - start
    features = doc.state().features
    params = doc.parameters
    last = features[-1]
    assert len(features) == opts.features, len(features)
    rss_built = rss_mb()

    # full rebuild: a fresh cache every time
    full, _ = timed(lambda: Rebuilder().build(features, params), opts.repeat)

    # incremental: only the last feature changed; the rest from a warm cache
    warm = Rebuilder()
    warm.build(features, params)
    depths = iter(range(10_000))

    def edit_last() -> None:
        changed = last.model_copy(update={"distance": 3.5 + next(depths) * 1e-3})
        result = warm.build([*features[:-1], changed], params)
        assert result.executed == [last.id], result.executed

    incremental, _ = timed(edit_last, opts.repeat)
    rss_rebuilds = rss_mb()

    registry = editor_registry()

    def tool_edit() -> None:
        depth = 3.5 + next(depths) * 1e-3
        result = registry.execute_sync(
            "modify_feature", {"feature_id": last.id, "changes": {"distance": depth}}, ctx
        )
        assert result.ok and result.content["rebuilt"] == [last.id], result

    tool_call, _ = timed(tool_edit, opts.repeat)

    # tessellation: first (new revision) and cached
    tess_first, _ = timed(lambda: doc.tessellation(deviation=0.1), 1)
    tess_cached, _ = timed(lambda: doc.tessellation(deviation=0.1), opts.repeat)
    mesh = doc.tessellation(deviation=0.1)
    rss_tessellated = rss_mb()

    # PNG: first render pays VTK/EGL start-up; then other views (not cached)
    png_first, _ = timed(lambda: doc.render("iso", 800, 600), 1)
    views = iter(["top", "front", "right", "left", "back", "bottom"] * 10)
    png_next, _ = timed(lambda: doc.render(next(views), 800, 600), min(opts.repeat, 6))
    png_bytes = len(doc.render("iso", 800, 600))
    rss_rendered = rss_mb()

    # Python-heap peak of one full rebuild
    tracemalloc.start()
    Rebuilder().build(features, params)
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    geometry = doc.geometry()
    figures = {
        "features": opts.features,
        "faces": geometry["faces"],
        "volume": geometry["volume"],
        "build_through_tools_s": round(build_via_tools, 3),
        "full_rebuild_s": round(full, 4),
        "incremental_rebuild_s": round(incremental, 4),
        "speedup": round(full / incremental, 1),
        "modify_feature_tool_call_s": round(tool_call, 4),
        "tool_call_speedup": round(full / tool_call, 1),
        "tessellation_first_s": round(tess_first, 4),
        "tessellation_cached_s": round(tess_cached, 6),
        "mesh_triangles": mesh.triangles,
        "png_first_s": round(png_first, 3),
        "png_next_s": round(png_next, 3),
        "png_bytes": png_bytes,
        "rss_start_mb": round(rss_start, 1),
        "rss_after_model_mb": round(rss_built, 1),
        "rss_after_rebuilds_mb": round(rss_rebuilds, 1),
        "rss_after_tessellation_mb": round(rss_tessellated, 1),
        "rss_after_renders_mb": round(rss_rendered, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "python_heap_peak_full_rebuild_mb": round(py_peak / 2**20, 2),
    }
    figures.update(path_figures(opts.features, opts.repeat))
    figures.update({"python": platform.python_version(), "cpus": os.cpu_count()})
    _print(figures, opts.json)


def _print(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if "speedup" in figures:
        target = "met" if figures["speedup"] >= 10 else "NOT met"
        print(f"\nincremental vs full rebuild: {figures['speedup']}x (target >= 10x: {target})")
    print(f"sweeps and lofts, edit last vs edit first feature: {figures['paths_model_speedup']}x")


if __name__ == "__main__":
    main()

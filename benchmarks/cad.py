"""CAD benchmark: incremental vs full rebuild of a 50-feature model, tessellation, PNG, memory.

The model: a plate (sketch + extrude) followed by pairs of (sketch on the plate's top,
pocket cut), up to --features features. Timings:

- full rebuild: every feature from an empty per-feature cache;
- incremental rebuild: the last feature edited, features before it from the cache
  (the rebuild alone, and the whole `modify_feature` tool call with Yjs write and figures);
- tessellation (ocp-tessellate) first and cached; PNG render (VTK offscreen) first and next;
- memory: process RSS after each stage, and tracemalloc's Python-heap peak of a full rebuild
  (OCCT's own C++ allocations are only visible in RSS).

Usage: .venv/bin/python benchmarks/cad.py [--features 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
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


def build_model(features: int) -> tuple[CadDocument, ToolContext]:
    registry = editor_registry()
    doc = CadDocument("bench")
    ctx = ToolContext(user_id="bench", document=doc)

    def call(name: str, **args: Any) -> None:
        result = registry.execute_sync(name, args, ctx)
        if not result.ok:
            raise RuntimeError(f"{name}: {result.error}")

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    opts = parser.parse_args()

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
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    if opts.json:
        print(json.dumps(figures))
        return
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    target = "met" if figures["speedup"] >= 10 else "NOT met"
    print(f"\nincremental vs full rebuild: {figures['speedup']}x (target >= 10x: {target})")


if __name__ == "__main__":
    main()

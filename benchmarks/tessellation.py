"""Tessellation route benchmark (issue 23): meshes for the 3D view, ours vs jupyter-cadquery's.

Three parts: about 14 faces (a 60 x 40 x 8 plate, 4 holes, its 4 vertical edges filleted),
100 faces (a plate with 94 holes) and 1,001 faces (a plate with 199 rectangular pockets).

In process, on the same built shapes (rebuilt from the document before every run, so no run
finds the previous run's triangulation; ocp-tessellate's mesh cache cleared too):
- ours: ``cad.tessellate.viewer_model`` (ocp-tessellate + the reference of every face and
  edge), then the compact JSON and its gzip, which is what the route stores and sends;
- jupyter-cadquery's own: ``ocp_viewer_core.offline._convert`` (what ``show()`` sends to
  its viewer, the same ocp-tessellate pipeline), then ``json.dumps`` of it and its gzip.

Through a real ``jupyter server`` (a subprocess, SQLite) and its HTTP route, gzip accepted:
- the first request (a worker process rebuilds the document and tessellates; the worker is
  started by a warm-up request on a small part first, and its start is reported alone);
- the second request with ``If-None-Match`` (304, no body) and without (200 from the cache).

Usage: .venv/bin/python benchmarks/tessellation.py [--repeat 3] [--http-repeat 20]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.cad.tessellate import viewer_model


def plate_with_fillets() -> CadDocument:
    document = CadDocument("plate14")
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 8})
    corners = [[-20, -10], [20, -10], [-20, 10], [20, 10]]
    document.add_feature({"type": "hole", "positions": corners, "diameter": 6})
    document.add_feature({"type": "fillet", "edges": ["|Z and not(%CIRCLE)"], "radius": 4})
    return document


def plate_with_holes(count: int = 94, columns: int = 10) -> CadDocument:
    document = CadDocument(f"holes{count}")
    rows = -(-count // columns)
    width, height = columns * 10 + 10, rows * 10 + 10
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": width, "height": height}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 8})
    positions = [
        [-width / 2 + 10 + 10 * (i % columns), -height / 2 + 10 + 10 * (i // columns)]
        for i in range(count)
    ]
    document.add_feature({"type": "hole", "positions": positions, "diameter": 5})
    return document


def plate_with_pockets(count: int = 199, columns: int = 20) -> CadDocument:
    document = CadDocument(f"pockets{count}")
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
    return document


PARTS: list[tuple[str, Callable[[], CadDocument]]] = [
    ("14 faces", plate_with_fillets),
    ("100 faces", plate_with_holes),
    ("1,001 faces", plate_with_pockets),
]


def fresh_bodies(state: dict[str, Any]) -> dict[str, Any]:
    """The document's bodies built anew (no triangulation from an earlier run)."""
    from ocp_tessellate.tessellator import cache

    cache.clear()
    return CadDocument.from_state(state).bodies


def ours(state: dict[str, Any]) -> dict[str, Any]:
    bodies = fresh_bodies(state)
    start = time.perf_counter()
    model = viewer_model(bodies)
    meshed = time.perf_counter()
    text = json.dumps(model, separators=(",", ":")).encode()
    encoded = time.perf_counter()
    packed = gzip.compress(text, compresslevel=6, mtime=0)
    done = time.perf_counter()
    references = sum(len(p["faces"]) + len(p["edges"]) for p in model["references"].values())
    reference_bytes = len(json.dumps(model["references"], separators=(",", ":")))
    return {
        "tessellate_s": meshed - start,
        "json_s": encoded - meshed,
        "gzip_s": done - encoded,
        "total_s": done - start,
        "json_bytes": len(text),
        "gzip_bytes": len(packed),
        "references": references,
        "reference_json_bytes": reference_bytes,
    }


def theirs(state: dict[str, Any]) -> dict[str, Any]:
    from ocp_viewer_core.offline import _convert

    bodies = fresh_bodies(state)
    start = time.perf_counter()
    data, _mapping = _convert(*bodies.values(), names=list(bodies))
    meshed = time.perf_counter()
    text = json.dumps(data, separators=(",", ":")).encode()
    encoded = time.perf_counter()
    packed = gzip.compress(text, compresslevel=6, mtime=0)
    done = time.perf_counter()
    return {
        "tessellate_s": meshed - start,
        "json_s": encoded - meshed,
        "gzip_s": done - encoded,
        "total_s": done - start,
        "json_bytes": len(text),
        "gzip_bytes": len(packed),
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def offline(states: dict[str, dict[str, Any]], repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label, state in states.items():
        ours(state)  # warm: imports, first-call costs
        theirs(state)
        results[label] = {
            "ours": median_of([ours(state) for _ in range(repeat)]),
            "jupyter_cadquery": median_of([theirs(state) for _ in range(repeat)]),
        }
    return results


def http(tmp: Path, documents: dict[str, CadDocument], repeat: int) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from chat.test_restart import TOKEN, Server  # type: ignore[import-not-found]

    script = tmp / "script.jsonl"
    script.write_text(json.dumps({"text": "unused"}) + "\n")
    server = Server(tmp, f"sqlite:///{tmp / 'bench.db'}", script)
    root = tmp / "root"
    root.mkdir(exist_ok=True)
    warm = CadDocument("warm")
    warm.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    warm.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 5})
    warm.save(root / "warm.solid.json")
    for label, document in documents.items():
        document.save(root / f"{_file(label)}.solid.json")

    def get(name: str, tag: str | None = None) -> tuple[int, float, dict[str, str], bytes]:
        url = server.url(f"solidtype/api/documents/tessellation?path={name}.solid.json")
        headers = {"Authorization": f"token {TOKEN}", "Accept-Encoding": "gzip"}
        if tag is not None:
            headers["If-None-Match"] = tag
        request = urllib.request.Request(url, headers=headers)
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                body = response.read()
                code, answer_headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as exc:
            body, code, answer_headers = exc.read(), exc.code, dict(exc.headers)
        return code, time.perf_counter() - start, answer_headers, body

    results: dict[str, Any] = {}
    server.start()
    try:
        code, seconds, _, _ = get("warm")
        assert code == 200, code
        results["worker_start_and_first_small_part_s"] = seconds
        for label in documents:
            name = _file(label)
            code, first, headers, body = get(name)
            assert code == 200 and headers.get("Content-Encoding") == "gzip", (code, headers)
            tag = headers["Etag"]
            not_modified, cached = [], []
            for _ in range(repeat):
                code, seconds, _, empty = get(name, tag)
                assert code == 304 and not empty, code
                not_modified.append(seconds)
                code, seconds, _, again = get(name)
                assert code == 200 and again == body, code
                cached.append(seconds)
            results[label] = {
                "first_s": first,
                "304_ms": statistics.median(not_modified) * 1000,
                "200_cached_ms": statistics.median(cached) * 1000,
                "gzip_bytes": len(body),
                "json_bytes": len(gzip.decompress(body)),
            }
    finally:
        server.stop()
    return results


def _file(label: str) -> str:
    return "part-" + label.split()[0].replace(",", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="in-process runs per part (median)")
    parser.add_argument("--http-repeat", type=int, default=20, help="304 / cached 200 requests")
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, {platform.platform()}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    documents = {label: make() for label, make in PARTS}
    states = {label: document.to_dict() for label, document in documents.items()}
    faces = {label: document.geometry()["faces"] for label, document in documents.items()}
    print("faces:", faces)
    in_process = offline(states, args.repeat)
    for label, result in in_process.items():
        ours_, theirs_ = result["ours"], result["jupyter_cadquery"]
        print(f"\n{label} ({faces[label]} faces, {ours_['references']} references)")
        for key in ("tessellate_s", "json_s", "gzip_s", "total_s", "json_bytes", "gzip_bytes"):
            ratio = ours_[key] / theirs_[key] if theirs_[key] else float("nan")
            print(f"  {key:14s} ours {ours_[key]:>12.4g}  jupyter-cadquery {theirs_[key]:>12.4g}"
                  f"  ratio {ratio:.2f}")  # fmt: skip
        print(f"  reference JSON bytes (in ours): {ours_['reference_json_bytes']:,}")
    with tempfile.TemporaryDirectory() as tmp:
        over_http = http(Path(tmp), documents, args.http_repeat)
    warm_up = over_http.pop("worker_start_and_first_small_part_s")
    print(f"\nHTTP (worker start + a small part: {warm_up:.2f} s)")
    for label, result in over_http.items():
        print(
            f"  {label:12s} first {result['first_s']:.3f} s, 304 {result['304_ms']:.2f} ms, "
            f"200 from cache {result['200_cached_ms']:.2f} ms, "
            f"{result['gzip_bytes']:,} B gzip ({result['json_bytes']:,} B JSON)"
        )
    print(json.dumps({"in_process": in_process, "http": over_http}, indent=1))


if __name__ == "__main__":
    main()

"""Evaluation benchmark: the builtin suite with the replay model, and where a case's time goes.

Runs `solidtype-jupyter eval builtin --model replay` in this process (``run_suite``) and
reports the time per case split into the model loop (the chat's loop, the scripted model and
the CAD tools), scoring (measuring the solids), the rebuild of the exported script and the
picture. Then it times the two ways of rebuilding a script: a process forked from the rebuild
server (what the eval does) and a new interpreter per script (the obvious way).

Usage: .venv/bin/python benchmarks/evals.py [--jobs 1] [--no-pictures] [--rebuilds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from solidtype_jupyter.evals import REPLAY, RunOptions, eval_model, load_suite, run_suite
from solidtype_jupyter.evals import rebuild as rebuild_module


def _row(name: str, values: list[float]) -> str:
    return (
        f"{name:<12} total {sum(values):7.2f} s  mean {statistics.mean(values):6.3f}  "
        f"median {statistics.median(values):6.3f}  max {max(values):6.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-pictures", action="store_true")
    parser.add_argument("--rebuilds", type=int, default=10, help="scripts per rebuild strategy")
    args = parser.parse_args()

    suite = load_suite("builtin")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        results = asyncio.run(
            run_suite(
                suite,
                eval_model(REPLAY, {}),
                out,
                jobs=args.jobs,
                options=RunOptions(pictures=not args.no_pictures),
            )
        )
        wall = time.perf_counter() - started
        scripts = sorted((out / "parts").glob("*.py"))[: args.rebuilds]
        texts = [p.read_text(encoding="utf-8") for p in scripts]

    cases = results.cases
    print(f"cases {len(cases)}, passed {results.passed}, jobs {args.jobs}, wall {wall:.1f} s")
    print(f"per case (wall / cases): {wall / len(cases):.3f} s")
    print(_row("case", [c.seconds for c in cases]))
    for part in ("model_loop", "scoring", "rebuild", "picture"):
        values = [c.timings.get(part, 0.0) for c in cases]
        if any(values):
            print(_row(part, values))
    print(
        f"tool calls {sum(c.tool_calls for c in cases)}, approvals "
        f"{sum(c.approvals for c in cases)}, model turns {sum(c.model_turns for c in cases)}"
    )

    # The first fork pays the server's start (a CadQuery import), as the suite's first case did.
    forked = []
    for text in texts:
        mark = time.perf_counter()
        assert "error" not in rebuild_module.rebuild_figures_sync(text)
        forked.append(time.perf_counter() - mark)
    fresh = []
    for text in texts:
        with tempfile.TemporaryDirectory() as folder:
            script, figures = Path(folder) / "part.py", Path(folder) / "figures.json"
            script.write_text(text, encoding="utf-8")
            mark = time.perf_counter()
            assert "error" not in rebuild_module._single(script, figures, 120.0)
            fresh.append(time.perf_counter() - mark)
    print(_row("rebuild_fork", forked))
    print(_row("rebuild_new", fresh))
    ratio = statistics.median(fresh) / statistics.median(forked)
    print(f"new interpreter / fork (medians): {ratio:.1f}x")
    print(f"python {platform.python_version()}, cpus {os.cpu_count()}, load {os.getloadavg()}")


if __name__ == "__main__":
    main()

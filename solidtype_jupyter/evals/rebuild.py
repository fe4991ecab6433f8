"""Rebuilding an exported script where nothing of this package can help it.

Each script runs in a process of its own, forked from a *rebuild server*: a new Python
interpreter (``sys.executable``) that imported CadQuery and nothing else, then forks once per
script. The script thus meets what a user's interpreter offers (CadQuery), none of our
modules and none of an earlier script's state, without paying CadQuery's import (2 s or more)
per case: a fork takes about 0.1 s (BENCHMARKS.md, Evaluation). Where ``os.fork`` does not
exist (Windows) every script gets a new interpreter.

Every rebuild is bounded in time: a script still running after its limit is killed, and so is
one whose rebuild is cancelled (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

DEFAULT_REBUILD_TIMEOUT = 120.0

# Measures `result` of the script at SCRIPT, writes its figures (or the error) to OUT.
_MEASURE = """
def measure(script, out):
    import json, os, runpy, traceback
    try:
        import cadquery as cq
        from OCP.Bnd import Bnd_Box
        from OCP.BRepBndLib import BRepBndLib
        result = runpy.run_path(script, run_name="__main__")["result"]
        solids = result.solids().vals()
        figures = {"solids": len(solids), "valid": all(s.isValid() for s in solids),
                   "volume": sum(s.Volume() for s in solids),
                   "area": sum(s.Area() for s in solids), "bbox": None}
        if solids:
            box = Bnd_Box()
            BRepBndLib.AddOptimal_s(cq.Compound.makeCompound(solids).wrapped, box, False, False)
            b = cq.BoundBox(box)
            figures["bbox"] = [b.xlen, b.ylen, b.zlen]
    except BaseException as exc:
        figures = {"error": "".join(traceback.format_exception_only(exc)).strip()[-500:]}
    with open(out + ".part", "w", encoding="utf-8") as handle:
        json.dump(figures, handle)
    os.replace(out + ".part", out)  # the whole file or none: the server polls for it
"""

# The server: one JSON request per stdin line ({"script", "out"}), answered with the pid of
# the child that runs it. Children are reaped by the kernel (SIGCHLD ignored).
_SERVER = (
    _MEASURE
    + """
import json, os, signal, sys
import cadquery, OCP.Bnd, OCP.BRepBndLib
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the parent's to handle
print("ready", flush=True)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sys.stdin.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the script's prints are not answers
        try:
            measure(request["script"], request["out"])
        finally:
            os._exit(0)
    print(pid, flush=True)
"""
)

_SINGLE = _MEASURE + "\nimport sys\nmeasure(sys.argv[1], sys.argv[2])\n"


class _Server:
    """The rebuild server of this process, started on first use, restarted if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def _started(self) -> subprocess.Popen[str]:
        process = self._process
        if process is not None and process.poll() is None:
            return process
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # a terminal's Ctrl-C goes to the eval, not to it
        )
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            process.kill()
            raise RuntimeError("the rebuild server did not start (is CadQuery installed?)")
        self._process = process
        return process

    def fork(self, script: Path, out: Path) -> int:
        """Start the script in a child of the server; the child's pid."""
        with self._lock:
            process = self._started()
            stdin: IO[str] | None = process.stdin
            stdout: IO[str] | None = process.stdout
            assert stdin is not None and stdout is not None
            stdin.write(json.dumps({"script": str(script), "out": str(out)}) + "\n")
            stdin.flush()
            return int(stdout.readline())

    def stop(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                with contextlib.suppress(OSError):
                    self._process.kill()
                self._process.wait()
            self._process = None


_server = _Server()
atexit.register(_server.stop)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a pid reused by another user's process: ours is gone
        return False
    return True


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


async def _forked(script: Path, out: Path, limit: float) -> dict[str, Any]:
    forking = asyncio.ensure_future(asyncio.to_thread(_server.fork, script, out))
    try:
        pid = await asyncio.shield(forking)
    except asyncio.CancelledError:  # the child may start anyway: wait for its pid to kill it
        _kill(await forking)
        raise
    deadline = time.monotonic() + limit
    delay = 0.005
    try:
        # Polled on the event loop, not in a worker thread: a cancelled rebuild (Ctrl-C)
        # kills its script at once instead of leaving a thread that asyncio.run waits for.
        while not os.path.exists(out):  # noqa: ASYNC240 (a stat: microseconds)
            if not _alive(pid):
                if os.path.exists(out):  # noqa: ASYNC240 (written just before it exited)
                    break
                return {"error": "the script's process died without a result (a crash in OCCT?)"}
            if time.monotonic() > deadline:
                _kill(pid)
                return {"error": f"the script took longer than {limit:g} s and was stopped"}
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
    except asyncio.CancelledError:
        _kill(pid)
        raise
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))  # noqa: ASYNC240
    return figures


def _single(script: Path, out: Path, timeout: float) -> dict[str, Any]:
    try:
        subprocess.run(
            [sys.executable, "-c", _SINGLE, str(script), str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"the script took longer than {timeout:g} s and was stopped"}
    if not out.exists():
        return {"error": "the script's process died without a result"}
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def rebuild_figures_sync(script: str, timeout: float = DEFAULT_REBUILD_TIMEOUT) -> dict[str, Any]:
    """``rebuild_figures`` outside an event loop."""
    return asyncio.run(rebuild_figures(script, timeout))


async def rebuild_figures(script: str, limit: float = DEFAULT_REBUILD_TIMEOUT) -> dict[str, Any]:
    """Run ``script`` (at most ``limit`` seconds); the figures of its ``result``
    (``solids``, ``valid``, ``volume``, ``area``, ``bbox``), or ``{"error": ...}``."""
    if not limit > 0:
        raise ValueError("the rebuild time limit must be a positive number of seconds")
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="solidtype-eval-"))
    try:
        path, out = folder / "part.py", folder / "figures.json"
        await asyncio.to_thread(path.write_text, script, encoding="utf-8")
        if hasattr(os, "fork"):
            figures = await _forked(path, out, limit)
        else:
            figures = await asyncio.to_thread(_single, path, out, limit)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    if "error" in figures and not figures["error"].startswith("the script "):
        figures["error"] = f"the script failed: {figures['error']}"
    return figures

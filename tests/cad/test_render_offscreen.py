"""Rendering on a machine without a display prints nothing (a notebook shows a process's
stderr under the cell, as a pink box)."""

from __future__ import annotations

import os
import subprocess
import sys

RENDER = """
import sys
import cadquery as cq
from solidtype_jupyter.cad.render import render_png

png = render_png(cq.Workplane().box(60, 40, 8), "iso", 64, 48)
sys.stdout.write("png" if png.startswith(b"\\x89PNG") else "no png")
"""


def test_rendering_without_a_display_writes_nothing_to_stderr() -> None:
    # A fresh process: VTK picks its window class when it creates the first one, and the
    # message comes from VTK's C++ side, straight to the file descriptor.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VTK_DEFAULT_OPENGL_WINDOW")
    }
    done = subprocess.run(
        [sys.executable, "-c", RENDER], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "png"
    assert done.stderr == "", f"rendering printed to stderr: {done.stderr!r}"

"""Headless PNG pictures of a shape (VTK offscreen through `cadquery.vis`).

Without an X display VTK renders through EGL (Debian: libegl1, libgl1-mesa-dri). The
pictures are for the model to look at its own work, so they are PNG (Claude and OpenAI
accept PNG, not SVG) and at most 1568 px on the long edge.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from typing import Any, Literal

import cadquery as cq

from .queries import solids_of

View = Literal["iso", "top", "bottom", "front", "back", "left", "right"]

# Direction from the shape's centre to the camera, and the screen's up direction.
VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "iso": ((1.0, -1.0, 1.0), (0.0, 0.0, 1.0)),
    "top": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "bottom": ((0.0, 0.0, -1.0), (0.0, -1.0, 0.0)),
    "front": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "back": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "right": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "left": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
}
# With VTK's 30 degree view angle, this distance (in bounding-box diagonals) frames the shape.
_DISTANCE = 2.0
MAX_EDGE = 1568

# VTK render windows are not safe to create from several threads at once.
_render_lock = threading.Lock()


class RenderError(RuntimeError):
    """Offscreen rendering is unavailable or failed."""


def _prefer_egl_without_display() -> None:
    """Make VTK open its EGL window directly when there is no X display.

    VTK tries an X window first and only then EGL; the failed attempt writes "bad X server
    connection. DISPLAY=" to the process's stderr, which a notebook shows under the cell
    that rendered. VTK reads this variable when it creates a render window; a value the
    user set is kept.
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def render_png(
    shape: cq.Workplane | cq.Shape,
    view: str = "iso",
    width: int = 800,
    height: int = 600,
    overlays: Sequence[Any] = (),
) -> bytes:
    """PNG bytes of `shape` seen from `view`; `overlays` (styled `cadquery.vis` objects,
    e.g. a highlighted selection) are drawn over it with the same camera."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r} (views: {', '.join(VIEWS)})")
    if not (16 <= width <= MAX_EDGE and 16 <= height <= MAX_EDGE):
        raise ValueError(f"width and height must be between 16 and {MAX_EDGE} pixels")
    direction, up = VIEWS[view]
    solids = solids_of(shape) if isinstance(shape, cq.Workplane) else [shape]
    if not solids:
        raise RenderError("there is nothing to render yet (the document has no solid)")
    box = cq.Compound.makeCompound(solids).BoundingBox()
    focus = box.center
    eye = focus + cq.Vector(*direction).normalized() * (_DISTANCE * max(box.DiagonalLength, 1e-3))
    try:
        from cadquery.vis import show
    except ImportError as exc:  # pragma: no cover - vtk is a cadquery dependency
        raise RenderError(f"VTK is not available: {exc}") from None
    _prefer_egl_without_display()
    handle, path = tempfile.mkstemp(suffix=".png", prefix="solidtype-render-")
    os.close(handle)
    try:
        with _render_lock:
            show(
                shape,
                *overlays,
                screenshot=path,
                interact=False,
                width=width,
                height=height,
                position=eye.toTuple(),
                focus=focus.toTuple(),
                viewup=up,
                roll=0,
                elevation=0,
                azimuth=0,
                title="solidtype",
            )
        with open(path, "rb") as fh:
            data = fh.read()
    except Exception as exc:
        raise RenderError(f"offscreen rendering failed: {type(exc).__name__}: {exc}") from exc
    finally:
        os.unlink(path)
    if not data.startswith(b"\x89PNG"):
        raise RenderError("offscreen rendering produced no PNG (no OpenGL/EGL context?)")
    return data

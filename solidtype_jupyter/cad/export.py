"""STEP and STL bytes of a shape (CadQuery's exporters, through a temporary file)."""

from __future__ import annotations

import os
import tempfile

import cadquery as cq


def _export(shape: cq.Workplane, suffix: str, **options: float) -> bytes:
    handle, path = tempfile.mkstemp(suffix=suffix, prefix="solidtype-export-")
    os.close(handle)
    try:
        cq.exporters.export(shape, path, **options)  # type: ignore[arg-type]
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def export_step(shape: cq.Workplane) -> bytes:
    return _export(shape, ".step")


def export_stl(
    shape: cq.Workplane, tolerance: float = 0.05, angular_tolerance: float = 0.2
) -> bytes:
    return _export(shape, ".stl", tolerance=tolerance, angularTolerance=angular_tolerance)

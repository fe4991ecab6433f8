"""Scoring a model by its geometry: figures measured on the solids, compared with a case's
``expected`` within its tolerances, and the exported script rebuilt in a fresh interpreter.

The rebuild itself is ``evals.rebuild``. A miss names the figure, the expected and the
actual value, so a report says what is wrong ("volume: expected 21120, got 19200 (-9.09%,
tolerance 0.1%)"), not just that it is.
"""

from __future__ import annotations

import math
from typing import Any

import cadquery as cq
from pydantic import BaseModel, ConfigDict

from ..cad import CadDocument
from ..cad.queries import exact_bounding_box, solids_of
from .suite import Expected, Tolerance

#: The rebuilt script must give the document's own solid: tighter than any case tolerance
#: (the same CadQuery operations, so only floating-point noise may differ).
REBUILD_REL = 1e-6
REBUILD_BBOX = 1e-3


class Miss(BaseModel):
    """One figure outside its tolerance (or a check that failed)."""

    model_config = ConfigDict(extra="forbid")
    figure: str
    expected: Any
    actual: Any
    tolerance: str | None = None
    message: str


class Figures(BaseModel):
    model_config = ConfigDict(extra="forbid")
    solids: int
    valid: bool
    volume: float
    area: float
    bbox: tuple[float, float, float] | None
    faces: int


NO_SOLID = Figures(solids=0, valid=False, volume=0.0, area=0.0, bbox=None, faces=0)


def measure(shape: cq.Workplane) -> Figures:
    """The figures of every solid on ``shape`` (unrounded)."""
    solids = solids_of(shape)
    if not solids:
        return NO_SOLID
    box = exact_bounding_box(cq.Compound.makeCompound(solids))
    return Figures(
        solids=len(solids),
        valid=all(s.isValid() for s in solids),
        volume=sum(s.Volume() for s in solids),
        area=sum(s.Area() for s in solids),
        bbox=(box.xlen, box.ylen, box.zlen),
        faces=sum(len(s.Faces()) for s in solids),
    )


def measure_document(document: CadDocument) -> Figures:
    """The document's figures; a document that does not build has no solid."""
    if not document.features:
        return NO_SOLID
    return measure(document.shape)


def _relative(actual: float, expected: float) -> float:
    return abs(actual - expected) / abs(expected)


def _percent(value: float) -> str:
    return f"{value * 100:.3g}%"


def _number(value: float) -> str:
    return f"{value:.6g}"


def score(figures: Figures, expected: Expected, tolerance: Tolerance) -> list[Miss]:
    """What differs between ``figures`` and ``expected``; empty when the model is right."""
    misses: list[Miss] = []
    if figures.solids != expected.solids:
        misses.append(
            Miss(
                figure="solids",
                expected=expected.solids,
                actual=figures.solids,
                message=f"solids: expected {expected.solids}, got {figures.solids}",
            )
        )
    if figures.solids and not figures.valid:
        misses.append(
            Miss(
                figure="valid",
                expected=True,
                actual=False,
                message="valid: OCCT's check finds an invalid solid",
            )
        )
    for name, rel in (("volume", tolerance.volume), ("area", tolerance.area)):
        want: float = getattr(expected, name)
        got: float = getattr(figures, name)
        if not _relative(got, want) <= rel:  # a NaN (a broken measurement) is a miss too
            diff = (got - want) / want
            misses.append(
                Miss(
                    figure=name,
                    expected=want,
                    actual=got,
                    tolerance=_percent(rel),
                    message=f"{name}: expected {_number(want)}, got {_number(got)} "
                    f"({'+' if diff >= 0 else ''}{_percent(diff)}, tolerance {_percent(rel)})",
                )
            )
    if figures.bbox is None:
        misses.append(
            Miss(
                figure="bbox",
                expected=list(expected.bbox),
                actual=None,
                tolerance=f"{tolerance.bbox:g} mm",
                message="bbox: there is no solid to measure",
            )
        )
    else:
        want_box, got_box = list(expected.bbox), list(figures.bbox)
        if tolerance.bbox_order == "any":
            want_box, got_box = sorted(want_box), sorted(got_box)
        if any(not abs(g - w) <= tolerance.bbox for g, w in zip(got_box, want_box, strict=True)):
            shown = " x ".join(_number(v) for v in figures.bbox)
            order = " (sizes compared sorted)" if tolerance.bbox_order == "any" else ""
            misses.append(
                Miss(
                    figure="bbox",
                    expected=list(expected.bbox),
                    actual=[round(v, 6) for v in figures.bbox],
                    tolerance=f"{tolerance.bbox:g} mm",
                    message=f"bbox: expected {' x '.join(_number(v) for v in expected.bbox)}, "
                    f"got {shown}{order}, tolerance {tolerance.bbox:g} mm",
                )
            )
    if expected.faces is not None and figures.faces != expected.faces:
        misses.append(
            Miss(
                figure="faces",
                expected=expected.faces,
                actual=figures.faces,
                message=f"faces: expected {expected.faces}, got {figures.faces}",
            )
        )
    return misses


def compare_rebuild(rebuilt: dict[str, Any], figures: Figures) -> list[Miss]:
    """Misses of the rebuilt script against the document's own figures."""
    if "error" in rebuilt:
        return [
            Miss(
                figure="rebuild",
                expected="the same solid",
                actual=rebuilt["error"],
                message=f"rebuild: {rebuilt['error']}",
            )
        ]
    misses: list[Miss] = []
    for name in ("solids", "valid"):
        if rebuilt[name] != getattr(figures, name):
            misses.append(
                Miss(
                    figure=f"rebuild.{name}",
                    expected=getattr(figures, name),
                    actual=rebuilt[name],
                    message=f"rebuild.{name}: the document has {getattr(figures, name)}, "
                    f"the script gives {rebuilt[name]}",
                )
            )
    for name in ("volume", "area"):
        want, got = float(getattr(figures, name)), float(rebuilt[name])
        if not math.isclose(got, want, rel_tol=REBUILD_REL, abs_tol=1e-9):
            misses.append(
                Miss(
                    figure=f"rebuild.{name}",
                    expected=want,
                    actual=got,
                    tolerance=_percent(REBUILD_REL),
                    message=f"rebuild.{name}: the document has {_number(want)}, the script "
                    f"gives {_number(got)}",
                )
            )
    got_box, want_box = rebuilt["bbox"], figures.bbox
    if (
        got_box is not None
        and want_box is not None
        and any(not abs(g - w) <= REBUILD_BBOX for g, w in zip(got_box, want_box, strict=True))
    ):
        misses.append(
            Miss(
                figure="rebuild.bbox",
                expected=list(want_box),
                actual=got_box,
                tolerance=f"{REBUILD_BBOX:g} mm",
                message=f"rebuild.bbox: the document has {list(want_box)}, the script gives "
                f"{got_box}",
            )
        )
    return misses

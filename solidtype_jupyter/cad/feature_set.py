"""The closed set of feature types a document may hold.

Each feature type lives in the module of its kind (`features`: sketches, extrusions and the
classic modifiers); this module gathers them into the one discriminated union that documents
validate against, so adding a type means adding it here and nowhere else.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .features import (
    Boolean,
    Chamfer,
    Extrude,
    FeatureBase,
    Fillet,
    Hole,
    Pattern,
    Revolve,
    Shell,
    Sketch,
)
from .path_features import Loft, Sweep
from .plane_features import DatumPlane, Mirror, Split

FEATURE_CLASSES: tuple[type[FeatureBase], ...] = (
    Sketch,
    Extrude,
    Revolve,
    Fillet,
    Chamfer,
    Hole,
    Shell,
    Boolean,
    Pattern,
    DatumPlane,
    Mirror,
    Split,
    Sweep,
    Loft,
)

Feature = Annotated[
    Sketch
    | Extrude
    | Revolve
    | Fillet
    | Chamfer
    | Hole
    | Shell
    | Boolean
    | Pattern
    | DatumPlane
    | Mirror
    | Split
    | Sweep
    | Loft,
    Field(discriminator="type"),
]

FEATURE_TYPES: dict[str, type[FeatureBase]] = {
    cls.model_fields["type"].default: cls for cls in FEATURE_CLASSES
}

"""Parametric CAD documents on CadQuery (knows nothing of chat).

Public API:
- `CadDocument`: parameters + feature tree in a pycrdt Doc; load/save `*.solid.json`,
  Yjs `get_update`/`apply_update`, transactional edits, undo/redo, `shape`, `to_script()`.
- `DocumentState`, `Parameter`: the document as plain data.
- feature models (`Sketch`, `Extrude`, `Revolve`, `Fillet`, `Chamfer`, `Hole`, `Shell`,
  `Boolean`, `Pattern`; `Sweep`, `Loft` along paths and between profiles, in `path_features`;
  `DatumPlane`, `Mirror`, `Split` on planes, in `plane_features`)
  and sketch entities (`Line`, `Arc`, `Circle`, `Rectangle`, `Polygon`, `Slot`, `Spline`).
- `Descriptor`: a face/edge named by its geometry.
- `CadError`, `FeatureError`, `DocumentError`.

Submodules for the pieces a document uses (also callable on any CadQuery Workplane):
`queries` (`geometry_summary`, `find`), `render` (`render_png`, headless VTK),
`tessellate` (`tessellate`, ocp-tessellate meshes), `export` (`export_step`, `export_stl`),
`script_helpers` (the selection helpers every exported script embeds).
"""

from .document import CadDocument, DocumentState, Parameter
from .errors import CadError, DocumentError, FeatureError
from .features import (
    Arc,
    Boolean,
    Chamfer,
    Circle,
    Descriptor,
    Extrude,
    Fillet,
    Hole,
    Line,
    Pattern,
    Polygon,
    Rectangle,
    Revolve,
    Shell,
    Sketch,
    Slot,
    Spline,
)
from .path_features import Loft, Sweep
from .plane_features import DatumPlane, Mirror, Split

__all__ = [
    "Arc",
    "Boolean",
    "CadDocument",
    "CadError",
    "Chamfer",
    "Circle",
    "DatumPlane",
    "Descriptor",
    "DocumentError",
    "DocumentState",
    "Extrude",
    "FeatureError",
    "Fillet",
    "Hole",
    "Line",
    "Loft",
    "Mirror",
    "Parameter",
    "Pattern",
    "Polygon",
    "Rectangle",
    "Revolve",
    "Shell",
    "Sketch",
    "Slot",
    "Spline",
    "Split",
    "Sweep",
]

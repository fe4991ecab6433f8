"""The model in jupyter-cadquery's interactive 3D viewer, in JupyterLab's right side panel.

jupyter-cadquery (three-cad-viewer in a ``cad-viewer-widget``, a prebuilt JupyterLab
extension) is the viewer CadQuery users already know: orbit, zoom, section planes,
measuring, the parts tree. It opens as a sidecar in the right panel rather than beside the
chat in one output, because the viewer needs at least 780 px of canvas plus its tree and did
not render inside an ``ipywidgets.HBox`` next to an anywidget (``shared/notes/cad-notes.md``).

Every change of the model is shown with the camera kept where the user left it, so edits
update in place instead of jumping; the faces or edges the agent works on are a second
object in the agent's colour (the colour it has as a collaborator).

Importing jupyter-cadquery in a kernel makes it the display of CadQuery objects in that
kernel (its ``auto_show``): a ``Workplane`` left at the end of a cell then shows in a 3D
viewer too. That is jupyter-cadquery's normal behaviour; it happens here only when the 3D
viewer is used.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import threading
from typing import Any

from ..cad import CadDocument

#: The model's colour (the yellow CadQuery users know from its viewers).
MODEL_COLOR = "#e8b024"


def available() -> bool:
    """Whether jupyter-cadquery is installed (a dependency; absent only from trimmed
    environments, where ``%ai_chat`` then shows pictures)."""
    return importlib.util.find_spec("jupyter_cadquery") is not None


def _jupyter_cadquery() -> Any:
    # It prints a line when it takes over CadQuery's display in a kernel; the chat panel
    # is the place for messages, not the cell's output. (``ModelViewer3D`` imports it on
    # the thread that runs ``%ai_chat``: redirecting stdout swaps it for the whole process.)
    with contextlib.redirect_stdout(io.StringIO()):
        import jupyter_cadquery
    # Keeping the camera between models is the point here, not something to warn about.
    jupyter_cadquery.ignore_camera_warnings()
    return jupyter_cadquery


class ModelViewer3D:
    """One sidecar viewer, ``title``, showing a document's model and the agent's selection.

    ``show`` tessellates (CPU work: call it off the event loop) and sends the result to
    the browser through the widget's comm; calls are serialized.
    """

    def __init__(self, title: str, agent_color: str) -> None:
        self._jcq = _jupyter_cadquery()
        self.title = title
        self.agent_color = agent_color
        self.shown = 0  # models sent so far
        self._lock = threading.Lock()
        self._viewer: Any = None

    def show(self, document: CadDocument, selected: list[Any] | None = None) -> None:
        """Show the document's model; ``selected`` faces or edges in the agent's colour."""
        import cadquery as cq

        jcq = self._jcq
        with self._lock:
            if self._viewer is None:
                self._viewer = jcq.open_viewer(self.title, anchor="right", glass=True)
            model = document.shape
            objects: list[Any] = [model]
            names = [document.name or "model"]
            colors = [MODEL_COLOR]
            if selected:
                objects.append(cq.Compound.makeCompound(selected))
                names.append("selected by the agent")
                colors.append(self.agent_color)
            # The first model replaces jupyter-cadquery's logo, so the camera fits it;
            # after that the user's camera stays put.
            camera = jcq.Camera.RESET if self.shown == 0 else jcq.Camera.KEEP
            jcq.show(
                *objects,
                names=names,
                colors=colors,
                viewer=self.title,
                reset_camera=camera,
                progress="",  # no progress marks in the cell's output
            )
            self.shown += 1

    def close(self) -> None:
        with self._lock:
            if self._viewer is not None:
                with contextlib.suppress(Exception):  # the page may be gone already
                    self._jcq.close_viewer(self.title)
                self._viewer = None

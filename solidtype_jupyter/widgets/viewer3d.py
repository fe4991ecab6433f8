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
import logging
import threading
import weakref
from typing import Any

from ..cad import CadDocument

log = logging.getLogger(__name__)

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


#: The viewers with an open sidecar, for ``_suspend_for_restore`` (which runs on the kernel's
#: thread while viewers open on the chat's).
_open_viewers: weakref.WeakSet[ModelViewer3D] = weakref.WeakSet()
_open_viewers_lock = threading.Lock()


def _suspend_for_restore() -> None:
    """Close every open sidecar before a browser restores this kernel's widgets.

    A reloaded page (or a second tab) asks the kernel for all its widgets at once
    (``request_states`` on the ``jupyter.widget.control`` comm) and builds them in one
    batch. A sidecar in that batch renders its WebGL viewer at once, which holds the
    page's main thread for seconds with software rendering (3.8 s measured in headless
    Chromium). Two two-second timers of the widget libraries expire during that time:
    ipywidgets then shows the chat cell as "Error displaying widget: model not found"
    (its ``get_model`` poll, jupyter-widgets/ipywidgets#4026) and anywidget rejects the
    model ("[anywidget] Failed to initialize model"), after which it drops every message
    from the kernel. Left out of the batch, the viewer is opened again by the chat when
    its panel is back (``Chat`` shows the model on the panel's ``ready``).
    """
    with _open_viewers_lock:
        viewers = list(_open_viewers)
    for viewer in viewers:
        viewer.suspend()


def _install_restore_hook() -> None:
    """Run ``_suspend_for_restore`` before ipywidgets answers a ``request_states``.

    ipywidgets has no hook for this (jupyter-widgets/ipywidgets#4026 is the timeout it
    works around); its control comm calls the class method
    ``Widget._handle_control_comm_msg``, bound when a page opens the comm, so the
    wrapper installed here serves every later page. It is installed only over the
    ipywidgets 8 classmethod it was written for, and whatever the suspension raises, the
    page still gets its widgets: the chat must never depend on the viewer. Idempotent.
    """
    from ipywidgets import Widget

    current = Widget.__dict__.get("_handle_control_comm_msg")
    handler = getattr(current, "__func__", None)
    if handler is None or getattr(handler, "_solidtype_restore", False):
        return  # not the ipywidgets 8 layout this was written for, or already installed

    def handle(cls: Any, msg: Any) -> Any:
        content = msg.get("content") if isinstance(msg, dict) else None
        data = content.get("data") if isinstance(content, dict) else None
        if isinstance(data, dict) and data.get("method") == "request_states":
            try:
                _suspend_for_restore()
            except Exception:
                log.warning("could not close the 3D viewer before a widget restore", exc_info=True)
        return handler(cls, msg)

    handle._solidtype_restore = True  # type: ignore[attr-defined]
    Widget._handle_control_comm_msg = classmethod(handle)


class ModelViewer3D:
    """One sidecar viewer, ``title``, showing a document's model and the agent's selection.

    ``show`` tessellates (CPU work: call it off the event loop) and sends the result to
    the browser through the widget's comm; calls are serialized. The sidecar is closed
    while a browser restores the kernel's widgets (``_suspend_for_restore``); the next
    ``show`` opens it again.
    """

    def __init__(self, title: str, agent_color: str) -> None:
        self._jcq = _jupyter_cadquery()
        _install_restore_hook()
        self.title = title
        self.agent_color = agent_color
        self.shown = 0  # models sent so far
        self._lock = threading.Lock()
        self._viewer: Any = None
        self._suspended = False

    def show(self, document: CadDocument, selected: list[Any] | None = None) -> None:
        """Show the document's model; ``selected`` faces or edges in the agent's colour."""
        import cadquery as cq

        jcq = self._jcq
        with self._lock:
            if self._viewer is None:
                self._open()
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
            self._close_sidecar()
            self._suspended = False

    def resume(self) -> None:
        """Open the sidecar again after ``suspend`` (then ``show`` the model in it).

        Call it on the kernel's thread while it handles a message of the browser that
        should get the viewer (the chat panel's ``ready``): jupyter-cadquery displays the
        viewer into the sidecar, an ``Output`` widget, and JupyterLab captures that
        output only for a request it is still waiting on.
        """
        with self._lock:
            if self._suspended and self._viewer is None:
                self._open()

    def suspend(self) -> None:
        """Close the sidecar in every browser, its widgets included (``resume``)."""
        with self._lock:
            if self._viewer is None:
                return
            self._close_sidecar()
            self._suspended = True
            # jupyter-cadquery closes a viewer's widgets on its next call only (to let
            # the browser dispose of the view first): a restore must not get them.
            from cad_viewer_widget.sidecar import drain_closed_viewers

            with contextlib.suppress(Exception):
                drain_closed_viewers()

    def _open(self) -> None:
        self._viewer = self._jcq.open_viewer(self.title, anchor="right", glass=True)
        self.shown = 0  # a new viewer: the first model fits the camera
        self._suspended = False
        with _open_viewers_lock:
            _open_viewers.add(self)

    def _close_sidecar(self) -> None:
        with _open_viewers_lock:
            _open_viewers.discard(self)
        if self._viewer is None:
            return
        # It prints 'Closed viewer "…"' into whatever cell runs; the chat says nothing.
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            self._jcq.close_viewer(self.title)  # the page may be gone already
        self._viewer = None

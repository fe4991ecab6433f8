"""``GET {base}solidtype/api/documents/render?path=P[&view=iso][&width=640][&height=480]``:
a PNG of the ``*.solid.json`` document at contents path ``P`` (the JupyterLab viewer of
those files); ``?session=ID`` instead of ``path``: the document of the caller's editor
session (the side panel's picture of the model the agent edits).

The picture is rebuilt from the file as saved; pictures are cached by (path, modification
time, view, size), so a viewer that polls after every save costs one render per change.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import SolidTypeAPIHandler

DOCUMENTS_ROUTE = "documents/render"
_CACHE_SIZE = 64
# VTK's offscreen renderer is not safe to use from two threads at once.
_render_lock = threading.Lock()
_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()


def _render(path: Path, view: str, width: int, height: int) -> bytes:
    from ..cad import CadDocument

    key = (str(path), path.stat().st_mtime_ns, view, width, height)
    with _render_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
        document = CadDocument.load(path)
        if not document.features:
            raise ValueError("the document has no features yet")
        png = document.render(view, width, height)
        _cache[key] = png
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return png


class DocumentRenderHandler(SolidTypeAPIHandler):
    auth_resource = "contents"  # reading a file's picture is reading the file

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..cad import CadError
        from ..cad.render import VIEWS, RenderError

        raw_path = await self._requested_path()
        view = self.get_query_argument("view", "iso")
        if view not in VIEWS:
            raise web.HTTPError(422, f"view must be one of {', '.join(VIEWS)}")
        width = self._size("width", 640)
        height = self._size("height", 480)
        path = self._document_path(raw_path)
        try:
            png = await asyncio.to_thread(_render, path, view, width, height)
        except FileNotFoundError:
            raise web.HTTPError(404, f"no document {raw_path}") from None
        except RenderError as exc:
            raise web.HTTPError(503, f"rendering is not available here: {exc}") from None
        except (CadError, ValueError) as exc:
            raise web.HTTPError(422, f"{raw_path}: {exc}") from None
        self.set_header("Cache-Control", "no-cache")
        self.finish(png, set_content_type="image/png")

    async def _requested_path(self) -> str:
        session_arg = self.get_query_argument("session", None)
        if session_arg is None:
            return self.get_query_argument("path", "")
        app = self.extensionapp
        try:
            session_id = uuid.UUID(session_arg)
        except ValueError:
            raise web.HTTPError(404, f"no session {session_arg!r}") from None
        session = await app.sessions.get(self.username, session_id)  # type: ignore[attr-defined]
        if session is None:  # missing or another user's: the same answer
            raise web.HTTPError(404, f"no session {session_id}")
        if session.document_id is None:
            raise web.HTTPError(404, f"session {session_id} has no document")
        entry = await app.catalog.get_document(self.username, session.document_id)  # type: ignore[attr-defined]
        if entry is None:
            raise web.HTTPError(404, f"session {session_id} has no document")
        return str(entry.path)

    def _size(self, name: str, default: int) -> int:
        raw = self.get_query_argument(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(422, f"{name} must be an integer") from None
        if not 16 <= value <= 2048:
            raise web.HTTPError(422, f"{name} must be between 16 and 2048 pixels")
        return value

    def _document_path(self, raw: str) -> Path:
        from ..store.catalog import DOCUMENT_SUFFIX, CatalogError, normalize_path

        try:
            relative = normalize_path(raw)
        except CatalogError as exc:
            raise web.HTTPError(422, str(exc)) from None
        if not relative.endswith(DOCUMENT_SUFFIX):
            raise web.HTTPError(422, f"{raw!r} is not a {DOCUMENT_SUFFIX} document")
        root = Path(self.serverapp.root_dir).resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):  # a symbolic link out of the tree
            raise web.HTTPError(404, f"no document {raw}")
        return path

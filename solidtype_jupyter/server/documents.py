"""``GET {base}solidtype/api/documents/render?path=P[&view=iso][&width=640][&height=480]``:
a PNG of the ``*.solid.json`` document at contents path ``P`` (the JupyterLab viewer of
those files); ``?session=ID`` instead of ``path``: the document of the caller's editor
session (the side panel's picture of the model the agent edits).

The picture is rebuilt from the file as saved; pictures are cached by (path, modification
time, view, size), so a viewer that polls after every save costs one render per change.

Reading a picture is reading the file: the route needs jupyter_server's ``contents`` read
permission. ``ContentsAccess`` asks the same question for the chat's editor sessions.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from .base import SolidTypeAPIHandler
from .worker import WorkerProcess, WorkerUnavailable

DOCUMENTS_ROUTE = "documents/render"
_CACHE_SIZE = 64
_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
# Rebuilding and rendering run in a worker process, never in the server's: OCCT and VTK hold
# the interpreter lock through their long calls (5 s of a 6 s render of a 120-hole part), so
# a thread would still freeze the event loop. One worker renders one picture at a time
# (VTK's offscreen renderer is not safe to use from two threads at once anyway); it starts
# with the first render (a few seconds: it imports CadQuery and VTK) and, as it holds
# about 900 MB (RSS), stops after RENDER_WORKER_IDLE seconds without a render.
RENDER_WORKER_IDLE = 120.0
# A document's features are bounded one by one (expressions, counts), not in sum: a long
# feature tree could still keep the worker busy for minutes and every later picture waiting.
RENDER_TIMEOUT = 60.0
render_worker = WorkerProcess(lambda: RENDER_WORKER_IDLE)


async def _render(path: Path, view: str, width: int, height: int) -> bytes:
    from ..cad.document import render_file
    from ..cad.render import RenderError

    loop = asyncio.get_running_loop()
    modified = (await loop.run_in_executor(None, path.stat)).st_mtime_ns
    key = (str(path), modified, view, width, height)
    cached = _cache.get(key)
    if cached is not None:
        _cache.move_to_end(key)
        return cached
    try:
        png: bytes = await render_worker.run(
            "picture", RENDER_TIMEOUT, render_file, str(path), view, width, height
        )
    except WorkerUnavailable as exc:
        raise RenderError(str(exc)) from None
    _cache[key] = png
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return png


class ContentsAccess:
    """One request's user and jupyter_server Authorizer, kept for the work the request
    starts: a chat run asks ``allowed("read")`` when it opens its session's document and
    ``allowed("write")`` before every save, so a permission taken away mid-session counts.
    Nothing of it comes from the request's body."""

    def __init__(self, handler: JupyterHandler) -> None:
        self._handler = handler
        self._user = handler.current_user
        self._authorizer = handler.authorizer

    async def allowed(self, action: Literal["read", "write"]) -> bool:
        if self._user is None:
            return False
        decision = self._authorizer.is_authorized(self._handler, self._user, action, "contents")
        return bool(await ensure_async(decision))


class DocumentRenderHandler(SolidTypeAPIHandler):
    auth_resource = "contents"  # reading a file's picture is reading the file

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..cad import CadError
        from ..cad.render import VIEWS, RenderError

        raw_path = await requested_document_path(self)
        view = self.get_query_argument("view", "iso")
        if view not in VIEWS:
            raise web.HTTPError(422, f"view must be one of {', '.join(VIEWS)}")
        width = self._size("width", 640)
        height = self._size("height", 480)
        # Resolving links and probing folders is file I/O: not on the event loop.
        path = await asyncio.to_thread(document_location, self.serverapp.root_dir, raw_path)
        try:
            png = await _render(path, view, width, height)
        except (FileNotFoundError, NotADirectoryError):
            raise web.HTTPError(404, f"no document {raw_path}") from None
        except OSError as exc:  # e.g. a name too long for the file system
            raise web.HTTPError(422, f"{raw_path}: {exc.strerror or 'cannot be read'}") from None
        except RenderError as exc:
            raise web.HTTPError(503, f"rendering is not available here: {exc}") from None
        except (CadError, ValueError) as exc:
            raise web.HTTPError(422, f"{raw_path}: {exc}") from None
        self.set_header("Cache-Control", "no-cache")
        self.finish(png, set_content_type="image/png")

    def _size(self, name: str, default: int) -> int:
        raw = self.get_query_argument(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(422, f"{name} must be an integer") from None
        if not 16 <= value <= 2048:
            raise web.HTTPError(422, f"{name} must be between 16 and 2048 pixels")
        return value


async def requested_document_path(handler: SolidTypeAPIHandler) -> str:
    """The contents path a document route is asked about: its ``path`` argument, or with
    ``session=ID`` the document of the caller's editor session (the side panel knows its
    session, not always the path); 404 for a session that is missing, another user's, or
    without a document."""
    session_arg = handler.get_query_argument("session", None)
    if session_arg is None:
        return handler.get_query_argument("path", "")
    app = handler.extensionapp
    try:
        session_id = uuid.UUID(session_arg)
    except ValueError:  # quoted cut short: the answer and the server's log are not an echo
        shown = session_arg if len(session_arg) <= 40 else session_arg[:37] + "..."
        raise web.HTTPError(404, f"no session {shown!r}") from None
    session = await handler.sessions.get(handler.username, session_id)
    if session is None:  # missing or another user's: the same answer
        raise web.HTTPError(404, f"no session {session_id}")
    if session.document_id is None:
        raise web.HTTPError(404, f"session {session_id} has no document")
    entry = await app.catalog.get_document(handler.username, session.document_id)  # type: ignore[attr-defined]
    if entry is None:
        raise web.HTTPError(404, f"session {session_id} has no document")
    return str(entry.path)


def document_location(root: str | Path, raw: str, *, folder_must_exist: bool = False) -> Path:
    """The real location of the ``*.solid.json`` at contents path ``raw``, or the HTTP
    error that says what is wrong with it: 422 for a malformed path, 404 for one that leaves
    the root (a link out of the tree) or, with ``folder_must_exist``, whose folder is
    missing. Messages quote the path as given, never the server's own paths."""
    from ..cad import DocumentError
    from ..cad.document import document_file
    from ..protocol.sessions import check_document_path
    from ..store.catalog import DOCUMENT_SUFFIX, normalize_path

    try:
        check_document_path(raw)
    except ValueError as exc:
        raise web.HTTPError(422, str(exc)) from None
    relative = normalize_path(raw)  # cannot fail on a checked path
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    try:
        path = document_file(root, relative)
    except DocumentError:  # a link out of the tree, or a path the OS cannot resolve
        raise web.HTTPError(404, f"no document {shown}") from None
    try:
        if path.is_dir():
            raise web.HTTPError(422, f"{shown!r} is a folder, not a {DOCUMENT_SUFFIX} file")
        if folder_must_exist and not path.parent.is_dir():
            folder = relative.rpartition("/")[0]
            raise web.HTTPError(404, f"no folder {folder!r} for {shown!r}: create the folder first")
    except OSError as exc:  # e.g. a name too long for the file system
        raise web.HTTPError(422, f"{shown!r}: {exc.strerror or 'not a usable path'}") from None
    return path

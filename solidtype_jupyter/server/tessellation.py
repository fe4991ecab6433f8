"""``GET {base}solidtype/api/documents/tessellation?path=P[&deviation=D][&angular_tolerance=A]``:
the meshes of the ``*.solid.json`` at contents path ``P`` for the 3D view (three-cad-viewer),
with the reference of every face and edge (``protocol.api.DocumentTessellation``);
``?session=ID`` instead of ``path``: the document of the caller's editor session, as for the
picture route (the side panel's view knows its session, not always the path).

- The revision served is the live one: while an editor session has the document open, the
  server's copy (``ChatService.open_document``, changed by agents as they work) rather than
  the file, so a view that polls sees a change as soon as a tool result is in.
- A strong ``ETag`` names (revision, deviation, angular tolerance); ``If-None-Match`` with
  it answers 304 with no body. ``Cache-Control: no-cache``: clients revalidate every time.
- Each (path, revision, tolerances) is tessellated once whatever the number of viewers:
  answers are kept gzip-compressed in an LRU bounded in bytes, and requests that arrive while
  one is being made wait for that one. Clients that do not accept gzip get it decompressed.
- Tessellating runs in a worker process, never in the server's (OCCT holds the interpreter
  lock through its long calls), with a time limit: past ``TESSELLATION_TIMEOUT`` the worker
  is killed and the route answers 503 saying so, and for ``TIMEOUT_REMEMBERED`` seconds
  answers that revision and tolerances so at once (views poll every second). It is a
  process of its own, not the picture route's render worker, so a view does not wait
  behind a picture (nor a picture behind a view); it stops after
  ``TESSELLATION_WORKER_IDLE`` seconds without work.
- Authorization is the picture route's: jupyter_server's ``contents`` read permission, and
  the same path rules (``documents.document_location``).
"""

from __future__ import annotations

import asyncio
import gzip
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import SolidTypeAPIHandler
from .documents import document_location, requested_document_path
from .worker import WorkerProcess, WorkerUnavailable

TESSELLATION_ROUTE = "documents/tessellation"
TESSELLATION_TIMEOUT = 60.0
TESSELLATION_WORKER_IDLE = 120.0
#: Compressed answers kept (a 1,000-face part is about 1 MB compressed; BENCHMARKS.md).
CACHE_BYTES = 128 * 1024 * 1024
DEVIATION = (0.01, 10.0)  # ocp-tessellate's relative deviation: smaller is finer
ANGULAR_TOLERANCE = (0.05, 1.5)  # radians
_REVISIONS = 256  # files whose (modification time, size) -> revision are remembered
#: How long a revision that passed the time limit is answered 503 at once. A view polls each
#: second: asking again at once restarted the worker and burnt a core for the whole limit,
#: again and again, for an answer that would not come.
TIMEOUT_REMEMBERED = 300.0


Key = tuple[str, str, float, float]  # contents path, revision, deviation, angular tolerance


class TessellationCache:
    """Compressed answers by ``Key``, least recently used first out past ``limit()`` bytes;
    one computation per key however many requests ask for it at once."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._answers: OrderedDict[Key, bytes] = OrderedDict()
        self._bytes = 0
        self._pending: dict[Key, asyncio.Task[bytes]] = {}
        # Why a revision does not build: it never will, so a view that polls a broken
        # document is answered without rebuilding it every time. (status, message, until:
        # a time of time.monotonic(), or inf for a failure that is for good)
        self._failures: OrderedDict[Key, tuple[int, str, float]] = OrderedDict()
        self.started = 0  # tessellations started, and those that gave an answer (tests
        self.computed = 0  # count them)

    @property
    def size(self) -> int:
        return self._bytes

    def get(self, key: Key) -> bytes | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    async def get_or_make(self, key: Key, make: Callable[[], Any]) -> bytes:
        cached = self.get(key)
        if cached is not None:
            return cached
        task = self._pending.get(key)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(self._make(key, make))
            self._pending[key] = task
            self.started += 1
        # Shielded: a viewer that goes away does not stop what the others wait for.
        return await asyncio.shield(task)

    async def _make(self, key: Key, make: Callable[[], Any]) -> bytes:
        try:
            answer: bytes = await make()
        finally:
            if self._pending.get(key) is asyncio.current_task():
                del self._pending[key]
        self.computed += 1
        self._put(key, answer)
        return answer

    def failure(self, key: Key) -> tuple[int, str] | None:
        """The status and message a key's last attempt failed with, while remembered."""
        known = self._failures.get(key)
        if known is None:
            return None
        status, message, until = known
        if time.monotonic() >= until:
            del self._failures[key]
            return None
        return status, message

    def remember_failure(
        self, key: Key, message: str, status: int = 422, seconds: float = math.inf
    ) -> None:
        self._failures[key] = (status, message, time.monotonic() + seconds)
        while len(self._failures) > _REVISIONS:
            self._failures.popitem(last=False)

    def _put(self, key: Key, answer: bytes) -> None:
        limit = self._limit()
        if len(answer) > limit:
            return  # larger than the whole cache: served, not kept
        old = self._answers.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        self._answers[key] = answer
        self._bytes += len(answer)
        while self._bytes > limit:
            _, dropped = self._answers.popitem(last=False)
            self._bytes -= len(dropped)

    def clear(self) -> None:
        self._answers.clear()
        self._failures.clear()
        self._bytes = 0


worker = WorkerProcess(lambda: TESSELLATION_WORKER_IDLE)
cache = TessellationCache(lambda: CACHE_BYTES)
_revisions: OrderedDict[tuple[str, int, int, int], tuple[str, dict[str, Any]]] = OrderedDict()
_revisions_lock = threading.Lock()  # _file_revision runs in threads


def _file_revision(path: Path) -> tuple[str, dict[str, Any]]:
    """The revision and state of the document file at ``path`` (file I/O and parsing: run
    it in a thread), remembered by file (a save replaces it: a new inode), modification time
    and size."""
    from ..cad.document import CadDocument

    status = path.stat()
    key = (str(path), status.st_ino, status.st_mtime_ns, status.st_size)
    with _revisions_lock:
        known = _revisions.get(key)
        if known is not None:
            _revisions.move_to_end(key)
            return known
    document = CadDocument.load(path, build=False)
    found = (document.revision, document.to_dict())
    with _revisions_lock:
        _revisions[key] = found
        while len(_revisions) > _REVISIONS:
            _revisions.popitem(last=False)
    return found


def entity_tag(revision: str, deviation: float, angular_tolerance: float, gzipped: bool) -> str:
    """The strong ETag of an answer (each content coding is its own representation)."""
    return f'"{revision}-{deviation:g}-{angular_tolerance:g}{"-gzip" if gzipped else ""}"'


class DocumentTessellationHandler(SolidTypeAPIHandler):
    auth_resource = "contents"  # reading a document's meshes is reading the file

    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..cad import CadError, DocumentError

        raw_path = await requested_document_path(self)  # ?path=, or ?session=
        deviation = self._tolerance("deviation", 0.1, *DEVIATION)
        angular_tolerance = self._tolerance("angular_tolerance", 0.2, *ANGULAR_TOLERANCE)
        # Resolving links and probing folders is file I/O: not on the event loop.
        path = await asyncio.to_thread(document_location, self.serverapp.root_dir, raw_path)
        from ..store.catalog import normalize_path

        relative = normalize_path(raw_path)  # checked by document_location
        live = self._live_document(path)
        try:
            if live is not None:
                revision, state = live.revision, None
            else:
                revision, state = await asyncio.to_thread(_file_revision, path)
        except (FileNotFoundError, NotADirectoryError):
            raise web.HTTPError(404, f"no document {relative}") from None
        except OSError as exc:
            raise web.HTTPError(422, f"{relative}: {exc.strerror or 'cannot be read'}") from None
        except DocumentError as exc:
            raise web.HTTPError(422, f"{relative}: {exc}") from None

        gzipped = "gzip" in self.request.headers.get("Accept-Encoding", "")
        tag = entity_tag(revision, deviation, angular_tolerance, gzipped)
        self.set_header("Cache-Control", "no-cache")
        self.set_header("Vary", "Accept-Encoding")
        self.set_header("Etag", tag)
        if self._not_modified(revision, deviation, angular_tolerance):
            self.set_status(304)
            self.finish()
            return

        if state is None and live is not None:
            state = live.to_dict()  # only now: a 304 needs the revision alone
        header = {
            "path": relative,
            "revision": revision,
            "deviation": deviation,
            "angular_tolerance": angular_tolerance,
        }
        key: Key = (relative, revision, deviation, angular_tolerance)
        failure = cache.failure(key)
        if failure is not None:
            raise web.HTTPError(*failure)
        try:
            answer = await cache.get_or_make(
                key, lambda: _tessellate(state, header, deviation, angular_tolerance)
            )
        except DocumentError as exc:
            cache.remember_failure(key, f"{relative}: {exc}")
            raise web.HTTPError(422, f"{relative}: {exc}") from None
        except CadError as exc:  # the meshes and the references did not line up
            raise web.HTTPError(503, f"tessellation failed: {exc}") from None
        except WorkerUnavailable as exc:
            message = f"tessellation is not available here: {exc}"
            if exc.timed_out:
                cache.remember_failure(key, message, 503, TIMEOUT_REMEMBERED)
            raise web.HTTPError(503, message) from None
        if not gzipped:
            answer = await asyncio.to_thread(gzip.decompress, answer)
        else:
            self.set_header("Content-Encoding", "gzip")
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(answer)

    def _live_document(self, path: Path) -> Any:
        service = getattr(self.extensionapp, "chat", None)
        return service.open_document(path) if service is not None else None

    def _not_modified(self, revision: str, deviation: float, angular_tolerance: float) -> bool:
        # If-None-Match compares weakly (RFC 9110 13.1.2): either coding's tag matches.
        header = self.request.headers.get("If-None-Match", "")
        if not header:
            return False
        ours = {entity_tag(revision, deviation, angular_tolerance, z) for z in (False, True)}
        given = {tag.strip().removeprefix("W/") for tag in header.split(",")}
        return "*" in given or bool(ours & given)

    def _tolerance(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise web.HTTPError(422, f"{name} must be a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise web.HTTPError(422, f"{name} must be between {low:g} and {high:g}")
        # Three significant digits: 0.1 and 0.10000001 are one mesh (and one cache entry).
        return float(f"{value:.3g}")


async def _tessellate(
    state: dict[str, Any] | None,
    header: dict[str, Any],
    deviation: float,
    angular_tolerance: float,
) -> bytes:
    from ..cad.tessellate import document_viewer_json

    assert state is not None
    answer: bytes = await worker.run(
        "tessellation",
        TESSELLATION_TIMEOUT,
        document_viewer_json,
        state,
        header,
        deviation,
        angular_tolerance,
    )
    return answer

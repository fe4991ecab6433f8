"""A parametric CAD document: parameters + an ordered feature tree in a pycrdt (Yjs) Doc.

Every change is a transaction: the new feature list is built first (from the per-feature
cache) and written to the Yjs document only if it builds into valid solids, so a refused
change leaves the document, its Yjs state and its undo history exactly as they were.
Each accepted change is one Yjs transaction, hence one undo step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, cast

import cadquery as cq
from pycrdt import Array, Doc, Map, UndoManager
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import DocumentError, FeatureError
from .export import export_step, export_stl
from .expressions import check_parameter_name
from .feature_set import FEATURE_TYPES, Feature
from .features import FeatureBase
from .queries import geometry_summary
from .rebuild import HELPER_NAMES, BuildResult, Rebuilder, script_source
from .render import render_png
from .tessellate import Tessellation, tessellate

FILE_FORMAT = "solidtype-document"
FILE_VERSION = 1
_FEATURE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Feature)
_MAX_ARTEFACTS = 32


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float
    description: str = ""


class DocumentState(BaseModel):
    """The whole document as plain data: what `*.solid.json` holds."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["solidtype-document"] = "solidtype-document"
    version: Literal[1] = 1
    name: str = "Untitled"
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    features: list[Feature] = Field(default_factory=list)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def parse_feature(data: dict[str, Any]) -> FeatureBase:
    """A feature from plain data; FeatureError with pydantic's reasons if it is malformed."""
    try:
        feature: FeatureBase = _FEATURE_ADAPTER.validate_python(data)
    except ValidationError as exc:
        kind = data.get("type", "?")
        raise FeatureError(f"invalid {kind} feature: {_validation_message(exc)}") from None
    return feature


class CadDocument:
    """Parameters and features in a Yjs document, rebuilt to CadQuery solids on change."""

    def __init__(self, name: str | None = None, *, rebuilder: Rebuilder | None = None) -> None:
        """An empty document. Leave `name` unset for a replica that will receive its state
        as Yjs updates (two replicas that both wrote a name would race for it)."""
        self.ydoc: Doc[Any] = Doc()
        self._meta = self.ydoc.get("meta", type=Map)
        self._parameters = self.ydoc.get("parameters", type=Map)
        self._features = self.ydoc.get("features", type=Array)
        self._rebuilder = rebuilder or Rebuilder()
        self._lock = threading.RLock()
        self._result: BuildResult | None = None
        self._result_revision: str | None = None
        self.build_error: str | None = None
        self._revision = ""
        self._revision_stale = True
        # The state vector misses deletions (undoing an insert), so watch transactions.
        self._subscription = self.ydoc.observe(self._mark_changed)
        self.last_executed: list[str] = []
        self._undo = UndoManager(
            scopes=[self._meta, self._parameters, self._features], capture_timeout_millis=0
        )
        # Per-revision caches of derived artefacts (tessellation, renders).
        self.artefacts: dict[tuple[Any, ...], Any] = {}
        if name is not None:
            self._write(DocumentState(name=name))
        self._undo.clear()

    # --- persistence ---------------------------------------------------------------------

    @classmethod
    def from_state(
        cls, state: DocumentState | dict[str, Any], *, build: bool = True
    ) -> CadDocument:
        """A document holding `state`; DocumentError if it is malformed or does not build.
        `build=False` checks the format only and builds when the model is first asked for:
        the server's copy of a document an agent edits runs no CadQuery."""
        try:
            parsed = (
                state if isinstance(state, DocumentState) else DocumentState.model_validate(state)
            )
        except ValidationError as exc:
            raise DocumentError(f"not a solidtype document: {_validation_message(exc)}") from None
        doc = cls(parsed.name)
        if build:
            try:
                doc._build(parsed)
            except FeatureError as exc:
                raise DocumentError(f"the document does not build: {exc}") from None
        doc._write(parsed)
        doc._undo.clear()
        return doc

    @classmethod
    def load(cls, path: str | Path, *, build: bool = True) -> CadDocument:
        """Read a `*.solid.json` file (`build`: see `from_state`)."""
        # Errors name the file only: their text reaches clients, which must not learn
        # where the server keeps its files.
        name = Path(path).name
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise DocumentError(f"cannot read {name}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DocumentError(f"cannot read {name}: {exc}") from None
        return cls.from_state(data, build=build)

    def to_dict(self) -> dict[str, Any]:
        return self.state().model_dump(mode="json", exclude_none=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def save(self, path: str | Path, *, root: str | Path | None = None) -> Path:
        """Write the document as readable JSON, atomically: a new temporary file beside
        `path`, then a rename over it. With `root`, the file is written at `path`'s real
        location (links followed), which must be inside `root` (DocumentError if not)."""
        target = Path(path) if root is None else document_file(root, path)
        data = self.to_json().encode("utf-8")
        fd, temporary = _exclusive_temporary(target)
        try:
            with os.fdopen(fd, "wb") as handle:
                with contextlib.suppress(OSError):
                    # A rename keeps the temporary file's mode: keep the document's.
                    os.fchmod(handle.fileno(), stat.S_IMODE(os.stat(target).st_mode))
                handle.write(data)
            # The rename replaces a link at `target` itself instead of writing through it.
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return target

    # --- Yjs -----------------------------------------------------------------------------

    def get_update(self, state_vector: bytes | None = None) -> bytes:
        """The Yjs update that brings a peer at `state_vector` (default: empty) up to date."""
        return self.ydoc.get_update(state_vector) if state_vector else self.ydoc.get_update()

    def get_state(self) -> bytes:
        """This document's Yjs state vector."""
        return self.ydoc.get_state()

    def apply_update(self, update: bytes, *, rebuild: bool = True) -> None:
        """Merge a peer's Yjs update and rebuild; a peer's broken model shows as build_error.
        ``rebuild=False`` only merges (the model is rebuilt when first asked for): what an
        event loop does, which must not run CadQuery."""
        with self._lock:
            self.ydoc.apply_update(update)
            if rebuild:
                self._refresh()

    # --- reading -------------------------------------------------------------------------

    def state(self) -> DocumentState:
        with self._lock:
            return DocumentState.model_validate(
                {
                    "name": self._meta.get("name", "Untitled"),
                    "parameters": self._parameters.to_py() or {},
                    "features": [dict(f.to_py()) for f in self._features],
                }
            )

    @property
    def name(self) -> str:
        return str(self._meta.get("name", "Untitled"))

    @property
    def features(self) -> list[FeatureBase]:
        return list(self.state().features)

    @property
    def parameters(self) -> dict[str, float]:
        return {k: p.value for k, p in self.state().parameters.items()}

    @property
    def revision(self) -> str:
        """A content hash: equal documents (e.g. after undo) share a revision."""
        with self._lock:
            # recomputed only after a Yjs transaction (local, undo/redo or a peer's update)
            if self._revision_stale:
                canonical = json.dumps(self.to_dict(), sort_keys=True)
                self._revision = hashlib.sha256(canonical.encode()).hexdigest()[:16]
                self._revision_stale = False
            return self._revision

    @property
    def result(self) -> BuildResult:
        with self._lock:
            revision = self.revision
            if self._result is None or self._result_revision != revision:
                self._refresh()
            if self._result is None:
                raise DocumentError(f"the document does not build: {self.build_error}")
            return self._result

    @property
    def shape(self) -> cq.Workplane:
        """The current solid(s) as a CadQuery Workplane."""
        return self.result.shape

    @property
    def bodies(self) -> dict[str, cq.Workplane]:
        return self.result.bodies

    def feature(self, feature_id: str) -> FeatureBase:
        for feature in self.features:
            if feature.id == feature_id:
                return feature
        known = ", ".join(f.id for f in self.features) or "none"
        raise DocumentError(f"unknown feature id {feature_id!r} (features: {known})")

    def to_script(self) -> str:
        """The document as a standalone CadQuery script that rebuilds the same solid(s)."""
        result = self.result
        codes = [step.code for step in result.steps]
        bodies = result.steps[-1].bodies if result.steps else []
        return script_source(self.name, result.parameters, codes, bodies)

    # --- derived artefacts, cached per revision ------------------------------------------

    def _cached(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            full_key = (self.revision, *key)
            if full_key in self.artefacts:
                self.artefacts[full_key] = self.artefacts.pop(full_key)  # most recent last
                return self.artefacts[full_key]
            value = make()
            self.artefacts[full_key] = value
            while len(self.artefacts) > _MAX_ARTEFACTS:
                del self.artefacts[next(iter(self.artefacts))]
            return value

    def geometry(self) -> dict[str, Any]:
        """Validity, volume, area, bounding box, centre of mass, face/edge counts."""
        # A successful rebuild ran OCCT's validity check on every body a feature changed.
        return dict(
            self._cached(("geometry",), lambda: geometry_summary(self.bodies, known_valid=True))
        )

    def render(self, view: str = "iso", width: int = 800, height: int = 600) -> bytes:
        """A PNG picture of the current model."""
        return bytes(
            self._cached(
                ("png", view, width, height), lambda: render_png(self.shape, view, width, height)
            )
        )

    def tessellation(self, deviation: float = 0.1, angular_tolerance: float = 0.2) -> Tessellation:
        """Meshes for the viewer."""
        result: Tessellation = self._cached(
            ("mesh", deviation, angular_tolerance),
            lambda: tessellate(self.bodies, deviation, angular_tolerance),
        )
        return result

    def export(self, fmt: Literal["step", "stl", "script"]) -> bytes:
        if fmt == "script":
            return self.to_script().encode()
        if not self.bodies:
            raise DocumentError("there is nothing to export yet (the document has no solid)")
        make = export_step if fmt == "step" else export_stl
        return bytes(self._cached(("export", fmt), lambda: make(self.shape)))

    # --- changes -------------------------------------------------------------------------

    def edit(self, change: Callable[[DocumentState], None]) -> BuildResult:
        """Apply `change` to a copy of the state, build it, and commit it only if it builds."""
        with self._lock:
            current = self.state()
            proposed = current.model_copy(deep=True)
            change(proposed)
            # re-validate: `change` may have put plain dicts in place of features
            try:
                proposed = DocumentState.model_validate(proposed.model_dump(exclude_none=True))
            except ValidationError as exc:
                raise FeatureError(_validation_message(exc)) from None
            result = self._build(proposed)
            self._write(proposed)
            self._result, self._result_revision = result, self.revision
            self.build_error = None
            return result

    def next_id(self, kind: str, state: DocumentState | None = None) -> str:
        state = state or self.state()
        numbers = [
            int(m.group(1)) for f in state.features if (m := re.fullmatch(rf"{kind}(\d+)", f.id))
        ]
        return f"{kind}{max(numbers, default=0) + 1}"

    def next_body(self) -> str:
        """The name a feature that makes a new body should give it now (body1, body2, ...)."""
        return self._next_body(self.state())

    def _next_body(self, state: DocumentState) -> str:
        numbers = [
            int(m.group(1))
            for f in state.features
            for field in ("body", "new_body")  # new_body: the second body of a split or mirror
            if (body := getattr(f, field, None)) and (m := re.fullmatch(r"body(\d+)", body))
        ]
        return f"body{max(numbers, default=0) + 1}"

    def add_feature(self, data: dict[str, Any] | FeatureBase) -> FeatureBase:
        """Append a feature (an id and, for new bodies, a body name are assigned if absent)."""
        raw = data.model_dump(exclude_none=True) if isinstance(data, FeatureBase) else dict(data)
        kind = raw.get("type")
        if kind not in FEATURE_TYPES:
            raise FeatureError(f"unknown feature type {kind!r} (types: {', '.join(FEATURE_TYPES)})")
        added: list[FeatureBase] = []

        def change(state: DocumentState) -> None:
            if "id" not in raw:
                raw["id"] = self.next_id(kind, state)
            elif any(f.id == raw["id"] for f in state.features):
                raise FeatureError(f"feature id {raw['id']!r} is already used")
            if raw.get("operation", "new") == "new" and kind in (
                "extrude",
                "revolve",
                "sweep",
                "loft",
            ):
                raw.setdefault("body", self._next_body(state))
            feature = parse_feature(raw)
            state.features.append(cast(Any, feature))
            added.append(feature)

        self.edit(change)
        return added[0]

    def update_feature(self, feature_id: str, changes: dict[str, Any]) -> FeatureBase:
        """Change some fields of a feature (its id and type cannot change)."""
        for forbidden in ("id", "type"):
            if forbidden in changes:
                raise FeatureError(f"a feature's {forbidden} cannot be changed")
        updated: list[FeatureBase] = []

        def change(state: DocumentState) -> None:
            index = self._index(state, feature_id)
            raw = state.features[index].model_dump(exclude_none=True)
            raw.update(changes)
            raw = {k: v for k, v in raw.items() if v is not None}
            feature = parse_feature(raw)
            state.features[index] = cast(Any, feature)
            updated.append(feature)

        self.edit(change)
        return updated[0]

    def delete_feature(self, feature_id: str) -> None:
        """Remove a feature; refused while later features use it (they are listed)."""

        def change(state: DocumentState) -> None:
            index = self._index(state, feature_id)
            users = [f.id for f in state.features[index + 1 :] if feature_id in f.references()]
            created_body = getattr(state.features[index], "body", None)
            created = (
                [created_body] if getattr(state.features[index], "operation", None) == "new" else []
            )
            created.append(getattr(state.features[index], "new_body", None))  # split, mirror
            for body in filter(None, created):
                users += [
                    f.id
                    for f in state.features[index + 1 :]
                    if body in f.references() and f.id not in users
                ]
            if users:
                raise FeatureError(
                    f"cannot delete {feature_id}: it is used by {', '.join(users)}; "
                    "delete or change those first"
                )
            del state.features[index]

        self.edit(change)

    def set_parameter(self, name: str, value: float, description: str | None = None) -> None:
        """Create or change a named parameter; every feature using it rebuilds."""
        check_parameter_name(name, HELPER_NAMES)

        def change(state: DocumentState) -> None:
            previous = state.parameters.get(name)
            text = (
                description
                if description is not None
                else (previous.description if previous else "")
            )
            state.parameters[name] = Parameter(value=value, description=text)

        self.edit(change)

    def delete_parameter(self, name: str) -> None:
        def change(state: DocumentState) -> None:
            if name not in state.parameters:
                raise DocumentError(f"unknown parameter {name!r}")
            del state.parameters[name]

        self.edit(change)

    def rename(self, name: str) -> None:
        def change(state: DocumentState) -> None:
            state.name = name

        self.edit(change)

    @staticmethod
    def _index(state: DocumentState, feature_id: str) -> int:
        for index, feature in enumerate(state.features):
            if feature.id == feature_id:
                return index
        known = ", ".join(f.id for f in state.features) or "none"
        raise DocumentError(f"unknown feature id {feature_id!r} (features: {known})")

    # --- undo ----------------------------------------------------------------------------

    @property
    def can_undo(self) -> bool:
        return bool(self._undo.can_undo())

    @property
    def can_redo(self) -> bool:
        return bool(self._undo.can_redo())

    def undo(self) -> None:
        """Revert the last accepted change (one whole tool call)."""
        with self._lock:
            if not self._undo.can_undo():
                raise DocumentError("nothing to undo")
            self._undo.undo()
            self._refresh()

    def redo(self) -> None:
        with self._lock:
            if not self._undo.can_redo():
                raise DocumentError("nothing to redo")
            self._undo.redo()
            self._refresh()

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    # --- internals -----------------------------------------------------------------------

    def _mark_changed(self, _event: Any) -> None:
        self._revision_stale = True

    def _build(self, state: DocumentState) -> BuildResult:
        parameters = {k: p.value for k, p in state.parameters.items()}
        result = self._rebuilder.build(state.features, parameters)
        self.last_executed = result.executed
        return result

    def _refresh(self) -> None:
        try:
            self._result = self._build(self.state())
            self._result_revision = self.revision
            self.build_error = None
        except (FeatureError, ValidationError) as exc:
            self._result, self._result_revision = None, None
            self.build_error = str(exc)

    def _write(self, state: DocumentState) -> None:
        """Bring the Yjs document to `state` in one transaction, touching only what changed."""
        params = {k: p.model_dump() for k, p in state.parameters.items()}
        features = [f.model_dump(mode="json", exclude_none=True) for f in state.features]
        old_params = self._parameters.to_py() or {}
        old_features = [dict(f.to_py()) for f in self._features]
        new_norm = [json.loads(json.dumps(f)) for f in features]
        with self.ydoc.transaction():
            if self._meta.get("name") != state.name:
                self._meta["name"] = state.name
            for key in set(old_params) - set(params):
                del self._parameters[key]
            for key, value in params.items():
                if old_params.get(key) != value:
                    self._parameters[key] = value
            # keep the unchanged head and tail; replace only the middle of the feature list
            head = 0
            while head < min(len(old_features), len(features)) and _same(
                old_features[head], new_norm[head]
            ):
                head += 1
            tail = 0
            while tail < min(len(old_features), len(features)) - head and _same(
                old_features[-1 - tail], new_norm[-1 - tail]
            ):
                tail += 1
            stop = len(old_features) - tail
            if stop > head:
                del self._features[head:stop]
            for offset, feature in enumerate(features[head : len(features) - tail]):
                self._features.insert(head + offset, Map(feature))


def render_file(path: str | Path, view: str, width: int, height: int) -> bytes:
    """A PNG of the `*.solid.json` at `path`; ValueError when it has no solid yet. What the
    server's render worker process runs (a module-level function, so it can be sent there)."""
    document = CadDocument.load(path)
    if not document.features:
        raise ValueError("the document has no features yet")
    if not document.bodies:  # a sketch only: nothing wrong with rendering (not a 503)
        raise ValueError("the document has no solid yet")
    return document.render(view, width, height)


def document_file(root: str | Path, path: str | Path) -> Path:
    """The real location of `path` (absolute, or relative to `root`), links followed;
    DocumentError when that is not inside `root` or the path cannot be resolved. The
    message names the path as given, never where `root` is."""
    real_root = Path(root).resolve()
    try:
        real = (real_root / path).resolve()
    except (OSError, RuntimeError, ValueError):  # too long, a link loop, a NUL
        raise DocumentError(f"{Path(path).name!r} is not a usable file path") from None
    if real == real_root or not real.is_relative_to(real_root):
        raise DocumentError(f"{Path(path).name!r} is outside the server's root folder")
    return real


def _exclusive_temporary(target: Path) -> tuple[int, str]:
    """A new file in `target`'s folder, opened for writing: created exclusively (a file or
    link already there, even one planted to redirect the write, is never opened) under an
    unguessable hidden name."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    for _ in range(16):
        temporary = str(target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp"))
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target.name}")


def _same(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    # Yjs hands numbers back as floats; compare the parsed features, not the raw JSON
    try:
        return bool(parse_feature(stored) == parse_feature(wanted))
    except FeatureError:
        return False

"""Feature list -> CadQuery, one feature at a time, with a cache of every intermediate state.

Each step's cache key chains the previous key, the code the feature wrote and the values of
the parameters that code names. Editing feature k therefore changes the keys of k..n only:
features before k come from the cache and only k..n run again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cadquery as cq

from . import script_helpers
from .errors import FeatureError
from .expressions import number_text
from .features import EmitContext, FeatureBase, Vec3
from .queries import solids_of

_HELPER_SOURCE = Path(script_helpers.__file__).read_text(encoding="utf-8")
HELPER_NAMES = {name for name in vars(script_helpers) if not name.startswith("__") and name != "cq"}

_KERNEL_HINTS = {
    "fillet": "the radius is probably too large for the selected edges or their neighbours; "
    "try a smaller radius or fewer edges",
    "chamfer": "the distance is probably too large for the selected edges; try a smaller one",
    "shell": "the wall thickness is probably too large for the body, or a removed face "
    "meets a fillet badly; try a thinner wall. The kernel cannot shell a loft between "
    "different profiles (a circle to a square) at all: cut a loft through smaller sections "
    "(loft with operation cut) instead",
    "extrude": "check that the profile does not cross itself",
    "revolve": "the profile must lie on one side of the axis and not cross itself",
}


@dataclass
class Step:
    """The state after one feature: its variables and what later features may refer to."""

    key: str
    feature_id: str
    code: str
    ns: dict[str, Any]
    bodies: list[str]
    planes: dict[str, tuple[Vec3, Vec3]]
    tools: dict[str, tuple[str, str]]
    sketches: dict[str, dict[str, Any]]


@dataclass
class BuildResult:
    steps: list[Step]
    parameters: dict[str, float]
    executed: list[str] = field(default_factory=list)

    @property
    def bodies(self) -> dict[str, cq.Workplane]:
        if not self.steps:
            return {}
        last = self.steps[-1]
        return {name: last.ns[name] for name in last.bodies}

    @property
    def shape(self) -> cq.Workplane:
        """All bodies as one Workplane (an empty one before the first solid)."""
        solids = [s for body in self.bodies.values() for s in solids_of(body)]
        if len(solids) == 1:
            return cq.Workplane("XY").newObject(solids)
        if not solids:
            return cq.Workplane("XY")
        return cq.Workplane("XY").newObject([cq.Compound.makeCompound(solids)])


def _fresh_namespace() -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "solidtype_rebuild", "cq": cq}
    ns.update({name: getattr(script_helpers, name) for name in HELPER_NAMES})
    return ns


_BASE_NS = _fresh_namespace()


class Rebuilder:
    """Builds feature lists; keeps an LRU cache of steps shared by every build of a document."""

    def __init__(self, max_steps: int = 512) -> None:
        self._cache: OrderedDict[str, Step] = OrderedDict()
        self._max = max_steps
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def build(self, features: Sequence[FeatureBase], parameters: dict[str, float]) -> BuildResult:
        """Build every feature in order; FeatureError names the first that fails."""
        with self._lock:
            return self._build(features, parameters)

    def _build(self, features: Sequence[FeatureBase], parameters: dict[str, float]) -> BuildResult:
        result = BuildResult(steps=[], parameters=dict(parameters))
        prev_key = "root"
        prev: Step | None = None
        for feature in features:
            ctx = EmitContext(
                feature_id=feature.id,
                parameters=parameters,
                ns=prev.ns if prev else _BASE_NS,
                bodies=list(prev.bodies) if prev else [],
                planes=dict(prev.planes) if prev else {},
                tools=dict(prev.tools) if prev else {},
                sketches=dict(prev.sketches) if prev else {},
            )
            code = feature.emit(ctx)
            used = {name: parameters[name] for name in sorted(ctx.used_parameters)}
            key = hashlib.sha256(
                json.dumps([prev_key, code, used], sort_keys=True).encode()
            ).hexdigest()
            step = self._cache.get(key)
            if step is None:
                step = self._run(feature, ctx, code, key, prev, used)
                self._cache[key] = step
                if len(self._cache) > self._max:
                    self._cache.popitem(last=False)
                result.executed.append(feature.id)
            else:
                self._cache.move_to_end(key)
            result.steps.append(step)
            prev, prev_key = step, key
        return result

    def _run(
        self,
        feature: FeatureBase,
        ctx: EmitContext,
        code: str,
        key: str,
        prev: Step | None,
        used: dict[str, float],
    ) -> Step:
        ns = dict(prev.ns if prev else _BASE_NS)
        ns.update(used)
        kind = getattr(feature, "type", "feature")
        try:
            exec(compile(code, f"<{feature.id}>", "exec"), ns)
        except script_helpers.SelectionError as exc:
            raise ctx.fail(str(exc)) from None
        except FeatureError:
            raise
        except Exception as exc:
            hint = _KERNEL_HINTS.get(kind, "check the feature's inputs")
            detail = str(exc).strip() or "the operation could not be completed"
            raise ctx.fail(
                f"{kind} failed in the CAD kernel ({type(exc).__name__}: {detail}); {hint}"
            ) from None
        for name in ctx.removed:  # bodies consumed by a boolean
            ns.pop(name, None)
        feature.after(ctx, ns)
        for body in sorted(ctx.touched):
            _check_body(ctx, kind, body, ns[body])
        return Step(
            key=key,
            feature_id=feature.id,
            code=code,
            ns=ns,
            bodies=ctx.bodies,
            planes=ctx.planes,
            tools=ctx.tools,
            sketches=ctx.sketches,
        )


def _check_body(ctx: EmitContext, kind: str, name: str, body: cq.Workplane) -> None:
    solids = solids_of(body)
    if not solids:
        raise ctx.fail(f"{kind} left body {name!r} without any solid (everything was removed)")
    for solid in solids:
        if not solid.isValid():
            hint = _KERNEL_HINTS.get(kind, "")
            raise ctx.fail(
                f"{kind} produced an invalid solid in body {name!r}; {hint}".rstrip("; ")
            )
        if solid.Volume() <= 1e-9:
            raise ctx.fail(f"{kind} produced a solid of zero volume in body {name!r}")


def script_source(
    name: str, parameters: dict[str, float], codes: Sequence[str], bodies: Sequence[str]
) -> str:
    """A standalone CadQuery script: helpers, parameters, each feature's code, `result`."""
    title = " ".join(name.split())  # one line: the name sits in a comment
    header = [
        f"# {title}: CadQuery script written by solidtype-jupyter.",
        "# Runs with CadQuery alone; `result` holds the final solid(s).",
        "",
    ]
    helpers = _HELPER_SOURCE.split('"""', 2)[2].lstrip("\n")
    params = ["# --- parameters ---"] + [
        f"{key} = {number_text(value)}" for key, value in parameters.items()
    ]
    body = ["# --- features ---", *codes]
    if not bodies:
        tail = 'result = cq.Workplane("XY")'
    elif len(bodies) == 1:
        tail = f"result = {bodies[0]}"
    else:
        solids = " + ".join(f"{b}.solids().vals()" for b in bodies)
        tail = f'result = cq.Workplane("XY").newObject([cq.Compound.makeCompound({solids})])'
    sections = [
        "\n".join(header),
        "# --- helpers (selection fails closed; shared with solidtype-jupyter) ---\n" + helpers,
        "\n".join(params),
        "\n\n".join(body),
        tail,
    ]
    return "\n\n".join(s.rstrip("\n") for s in sections) + "\n"

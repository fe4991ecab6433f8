"""Checks behind the editing tools: which features a parameter drives, and whether the fields
a `modify_feature` call names exist on that feature, said so the model can fix its call."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..cad import CadDocument
from ..cad.errors import FeatureError
from ..cad.expressions import expression_names
from .arguments_schema import portable_schema
from .registry import ToolFailure, unknown_name_hint, validation_text

# The creating tools call a feature's sketch `sketch_id`; the feature stores it as `sketch`.
FIELD_ALIASES = {"sketch_id": "sketch"}


def parameter_users(doc: CadDocument, name: str) -> list[str]:
    """Ids of the features with a numeric expression that names parameter `name`."""
    return [f.id for f in doc.features if name in _names_in(f.model_dump(mode="json"))]


def _names_in(value: Any) -> set[str]:
    if isinstance(value, str):
        try:
            return expression_names(value)
        except FeatureError:
            return set()  # a selector, a reference: not an expression
    if isinstance(value, dict):
        return set().union(*(_names_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_names_in(v) for v in value))
    return set()


# A plain numeric field of each feature type, for the example in `unused_parameter_note`
# (the example must be a change the named feature accepts).
_EXAMPLE_FIELD = {
    "extrude": "distance",
    "revolve": "angle",
    "hole": "diameter",
    "fillet": "radius",
    "chamfer": "distance",
    "shell": "thickness",
    "datum": "offset",
}


def unused_parameter_note(name: str, doc: CadDocument) -> str:
    example, field = next(
        (
            (f.id, _EXAMPLE_FIELD[f.type])  # type: ignore[attr-defined]
            for f in doc.features
            if f.type in _EXAMPLE_FIELD  # type: ignore[attr-defined]
        ),
        ("extrude1", "distance"),
    )
    return (
        f"no feature uses parameter {name!r} yet, so nothing rebuilt. To drive a feature with "
        f"it, put an expression naming it in a numeric field with modify_feature, e.g. "
        f'{{"feature_id": "{example}", "changes": {{"{field}": "{name}"}}}} or '
        f'"{name} / 2"; any numeric field of a creating tool takes such an expression too.'
    )


def checked_changes(doc: CadDocument, feature_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with aliases resolved, or ToolFailure naming the fields this feature has
    (and the closest to a misspelt one) or what is wrong with the changed feature."""
    feature = doc.feature(feature_id)
    kind = type(feature)
    out = {FIELD_ALIASES.get(key, key): value for key, value in changes.items()}
    fields = [name for name in kind.model_fields if name not in ("id", "type")]
    unknown = [key for key in out if key not in fields and key not in ("id", "type")]
    if unknown:
        what = f"{feature_id} is a feature of type {feature.type}"  # type: ignore[attr-defined]
        problems = "; ".join(
            f"it has no field {key!r}" + unknown_name_hint(key, fields) for key in unknown
        )
        raise ToolFailure("invalid_arguments", f"{what}: {problems}")
    _second_body(doc, feature, out)
    merged = {**feature.model_dump(exclude_none=True), **out}
    try:
        kind.model_validate({k: v for k, v in merged.items() if v is not None})
    except ValidationError as exc:
        text = validation_text(exc, portable_schema(kind), unknown="field")
        text = text.removeprefix("invalid arguments: ")
        raise ToolFailure("invalid_arguments", f"changes to {feature_id}: {text}") from None
    return out


def _second_body(doc: CadDocument, feature: Any, changes: dict[str, Any]) -> None:
    """Name or drop the body a split (keep both) or a mirror (new_body) adds, as their tools
    do: the model says `keep` or `new_body: true`, never a body name it cannot know."""
    if feature.type == "split" and "keep" in changes and "new_body" not in changes:
        if changes["keep"] != "both":
            changes["new_body"] = None
        elif feature.new_body is None:
            changes["new_body"] = doc.next_body()
    if feature.type == "mirror" and isinstance(changes.get("new_body"), bool):
        keep = changes["new_body"]
        changes["new_body"] = (feature.new_body or doc.next_body()) if keep else None

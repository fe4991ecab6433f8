"""JSON Schema of a tool's arguments as every provider is offered it, and what comes back.

`portable_schema(model)` turns a pydantic argument model into the one schema the registry
publishes (Anthropic's `input_schema`, OpenAI's `parameters`, the agent loop's validator):
- fixed-length tuples such as `Point2` are `items` + `minItems`/`maxItems` instead of
  `prefixItems` (OpenAI's strict subset has no `prefixItems`); every item schema is kept, so
  a number may still be an expression string ("width / 2") and pydantic checks each position;
- `oneOf` (pydantic's discriminated unions) is `anyOf`: the variants' `const` tags keep them
  mutually exclusive; `title` and `discriminator` are dropped (noise for the model);
- a property with a default also accepts `null`, which means "absent": strict function calling
  makes every property required, so null is how a strict model leaves a field to its default;
- a `const`-valued property (a union's tag) is required, so a tagged union never loses its tag;
- a free-form object (`dict[str, Any]`: no fixed properties) also accepts the same object as
  JSON text (`contentMediaType: application/json`), the only form strict mode can express.

`normalized_arguments(schema, value)` undoes the last two on what a model sent: a null for an
optional property is dropped and JSON text where a free-form object belongs is parsed, so the
registry's pydantic models (one validation path) accept whatever the schema accepts.
`llm.strict_schema.openai_strict_schema` derives OpenAI's strict form from this one.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

JSON_TEXT = "application/json"
_DROPPED = ("title", "discriminator")


def portable_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The provider-neutral JSON Schema of `model`'s arguments (see the module docstring)."""
    raw = model.model_json_schema()
    defs = raw.pop("$defs", None)
    schema: dict[str, Any] = _portable(raw)
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    if defs:
        schema["$defs"] = {name: _portable(node) for name, node in defs.items()}
    return schema


def _portable(node: Any) -> Any:
    if isinstance(node, list):
        return [_portable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties":
            out[key] = {name: _portable(prop) for name, prop in value.items()}
        elif key == "default":
            out[key] = value  # data, not a schema
        elif key == "oneOf":
            out["anyOf"] = _portable(value)
        elif key == "prefixItems":
            out["items"] = _tuple_items([_portable(item) for item in value])
        else:
            out[key] = _portable(value)
    if out.get("type") == "object":
        if "properties" in out:
            _optional_nullable(out)
        elif out.get("additionalProperties") is not False:
            return _free_form(out)
    return out


def _tuple_items(items: list[Any]) -> dict[str, Any]:
    """One item schema for a fixed-length tuple: the common one, or any of the positions'."""
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return unique[0] if len(unique) == 1 else {"anyOf": unique}


def _optional_nullable(obj: dict[str, Any]) -> None:
    required = list(obj.get("required", []))
    for name, prop in obj["properties"].items():
        if name in required:
            continue
        if "const" in prop:
            required.append(name)
        elif not accepts_null(prop):
            obj["properties"][name] = _with_null(prop)
    if required:
        obj["required"] = required


_META = ("description", "default")


def _with_null(prop: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in prop:
        return {**prop, "anyOf": [*prop["anyOf"], {"type": "null"}]}
    inner = {k: v for k, v in prop.items() if k not in _META}
    outer = {k: prop[k] for k in _META if k in prop}
    return {**outer, "anyOf": [inner, {"type": "null"}]}


def _free_form(obj: dict[str, Any]) -> dict[str, Any]:
    description = obj.pop("description", None)
    out: dict[str, Any] = {
        "anyOf": [
            obj,
            {
                "type": "string",
                "contentMediaType": JSON_TEXT,
                "description": "the same object as JSON text",
            },
        ]
    }
    if description is not None:
        out["description"] = description
    return out


def accepts_null(node: dict[str, Any]) -> bool:
    """Whether a (portable) property schema lets `null` through."""
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in node.get("enum", ()) or ("const" in node and node["const"] is None):
        return True
    return any(accepts_null(branch) for branch in node.get("anyOf", ()))


def normalized_arguments(schema: dict[str, Any], value: Any) -> Any:
    """`value` with nulls of optional properties dropped and JSON text of free-form objects
    parsed, following `schema` (a `portable_schema`); anything else passes unchanged, for
    pydantic to accept or explain."""
    return _normalize(schema, value, schema.get("$defs", {}))


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, dict):
            return target
    return node


def _normalize(node: dict[str, Any], value: Any, defs: dict[str, Any]) -> Any:
    node = _resolve(node, defs)
    if "anyOf" in node:
        return _normalize_union(node["anyOf"], value, defs)
    if isinstance(value, dict) and isinstance(node.get("properties"), dict):
        properties = node["properties"]
        required = set(node.get("required", ()))
        out = {}
        for key, item in value.items():
            if item is None and key in properties and key not in required:
                continue  # null means absent: the field keeps its default
            out[key] = _normalize(properties[key], item, defs) if key in properties else item
        return out
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_normalize(node["items"], item, defs) for item in value]
    return value


def _normalize_union(branches: list[Any], value: Any, defs: dict[str, Any]) -> Any:
    resolved = [_resolve(b, defs) for b in branches if isinstance(b, dict)]
    if isinstance(value, str):
        if any(b.get("type") == "string" and "contentMediaType" not in b for b in resolved):
            return value  # a plain string is allowed here: never reinterpret it
        if any(b.get("contentMediaType") == JSON_TEXT for b in resolved):
            try:
                return json.loads(value)
            except ValueError:
                return value  # pydantic explains that an object was expected
        return value
    if isinstance(value, dict):
        objects = [b for b in resolved if isinstance(b.get("properties"), dict)]
        for branch in objects:
            if _matches_tags(branch, value):
                return _normalize(branch, value, defs)
        return value
    if isinstance(value, list):
        arrays = [b for b in resolved if isinstance(b.get("items"), dict)]
        if len(arrays) == 1:
            return _normalize(arrays[0], value, defs)
    return value


def _matches_tags(branch: dict[str, Any], value: dict[str, Any]) -> bool:
    """Whether `value` can be this object branch: its keys are known, its tags equal."""
    properties = branch["properties"]
    if branch.get("additionalProperties") is False and not set(value) <= set(properties):
        return False
    return all(
        value.get(name) == prop["const"]
        for name, prop in properties.items()
        if isinstance(prop, dict) and "const" in prop
    )

"""OpenAI's strict function-calling form of a tool's JSON Schema.

Strict mode (`"strict": true` on a function) constrains the model's arguments to the schema,
but accepts only a subset of JSON Schema (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas):
every object lists all its properties in `required` and sets `additionalProperties: false`;
optional fields are expressed as unions with `null`; a limited set of keywords is known.
`openai_strict_schema` derives that form from the registry's portable schema
(`tools.arguments_schema.portable_schema`), whose conventions make the two agree:
- an optional property becomes required and keeps (or gains) its `null` branch: null is
  "absent", and the registry drops it before validation, so the field takes its default
  (named in the description, since `default` is not a strict keyword);
- a free-form object keeps only its JSON-text branch (strict mode cannot say "any object"),
  which the registry parses back;
- keywords outside the subset (`default`, `minLength`, a `format` strict mode does not know,
  ...) move into the description: the model still reads them, pydantic still enforces them;
- a `$ref` with sibling keywords is inlined (the openai SDK's own `to_strict_json_schema`
  does the same), as strict mode wants a bare `$ref`.
Any JSON Schema object works as input (e.g. a hand-written one); the result is a new dict.
"""

from __future__ import annotations

import json
from typing import Any

#: Keywords strict mode accepts (the "Supported schemas" section of the page above).
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "description",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
#: String formats strict mode supports (same page).
STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_JSON_TEXT = "application/json"


def openai_strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The strict form of an object schema (see the module docstring)."""
    defs = schema.get("$defs", {})
    out: dict[str, Any] = _strict(schema, defs, seen=())
    if "$defs" in schema:
        out["$defs"] = {name: _strict(node, defs, seen=(name,)) for name, node in defs.items()}
    out.setdefault("type", "object")
    out.setdefault("properties", {})
    out.setdefault("required", list(out["properties"]))
    out.setdefault("additionalProperties", False)
    return out


def _strict(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if not isinstance(node, dict):
        return node
    node = dict(node)
    node.pop("$defs", None)
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        name = ref.removeprefix("#/$defs/")
        target = defs.get(name)
        if isinstance(target, dict) and name not in seen:
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return _strict(merged, defs, (*seen, name))
        node = {"$ref": ref}  # recursive: keep the bare reference, drop the siblings
    branches = node.get("anyOf")
    if isinstance(branches, list):
        json_text = [b for b in branches if isinstance(b, dict) and _is_json_text(b)]
        if json_text and len(branches) == 2:
            # a free-form object: only its JSON text can be said in strict mode
            description = node.get("description")
            node = {k: v for k, v in node.items() if k != "anyOf"}
            node.update({k: v for k, v in json_text[0].items() if k != "description"})
            node["description"] = " ".join(
                part for part in (description, "(JSON text of an object)") if part
            )
    extra: list[str] = []
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _strict(prop, defs, seen) for name, prop in value.items()}
        elif key in ("items",) and isinstance(value, dict):
            out[key] = _strict(value, defs, seen)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [_strict(branch, defs, seen) for branch in value]
        elif key == "format" and value not in STRICT_FORMATS:
            extra.append(f"format: {value}")
        elif key in STRICT_KEYWORDS:
            out[key] = value
        elif key == "default":
            if value is not None:
                extra.append(f"default: {json.dumps(value)}")
        elif key == "contentMediaType":
            continue
        else:
            extra.append(f"{key}: {json.dumps(value)}")
    if out.get("type") == "object" or "properties" in out:
        _strict_object(out)
    if extra:
        out["description"] = "; ".join(p for p in (out.get("description"), *extra) if p)
    return out


def _strict_object(obj: dict[str, Any]) -> None:
    properties: dict[str, Any] = obj.setdefault("properties", {})
    required = set(obj.get("required", ()))
    for name, prop in properties.items():
        if name not in required and not _accepts_null(prop):
            properties[name] = _nullable(prop)
    for name in properties:
        if name not in required:
            prop = properties[name]
            note = "null for the default"
            prop["description"] = "; ".join(p for p in (prop.get("description"), note) if p)
    obj["required"] = list(properties)
    obj["additionalProperties"] = False


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in prop:
        return {**prop, "anyOf": [*prop["anyOf"], {"type": "null"}]}
    described = {k: prop[k] for k in ("description",) if k in prop}
    inner = {k: v for k, v in prop.items() if k != "description"}
    return {**described, "anyOf": [inner, {"type": "null"}]}


def _accepts_null(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in node.get("enum", ()) or ("const" in node and node["const"] is None):
        return True
    return any(isinstance(b, dict) and _accepts_null(b) for b in node.get("anyOf", ()))


def _is_json_text(branch: dict[str, Any]) -> bool:
    return branch.get("type") == "string" and branch.get("contentMediaType") == _JSON_TEXT

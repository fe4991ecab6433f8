"""Every tool's input schema, checked against the rules each provider documents.

Anthropic tool use (non-strict; the form `AnthropicAdapter` sends), from "Define tools"
(https://platform.claude.com/docs/en/agents-and-tools/tool-use/define-tools) and the SDK's
`ToolParam` type:
- A1 the tool name matches `^[a-zA-Z0-9_-]{1,64}$`;
- A2 `input_schema` is a JSON Schema (draft 2020-12) object: its root has `type: "object"`
  (the SDK's `InputSchemaTyped` requires it) and it passes the draft 2020-12 metaschema;
- A3 (this issue) it uses no `prefixItems`: the form is shared with OpenAI's strict subset.

OpenAI strict function calling (`"strict": true`; the form `OpenAICompatibleAdapter` sends to
OpenAI), from "Function calling: strict mode"
(https://platform.openai.com/docs/guides/function-calling#strict-mode), "Structured Outputs:
supported schemas" (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas)
and the API reference of `FunctionDefinition.name`:
- O1 the name matches `^[a-zA-Z0-9_-]{1,64}$`;
- O2 the root is an object schema and not an `anyOf`;
- O3 every object sets `additionalProperties: false` and lists every property in `required`
  (an optional field is a union with `null`);
- O4 only supported keywords: type, properties, required, additionalProperties, items, anyOf,
  enum, const, $ref, $defs, description; string `pattern`, `format` (date-time, time, date,
  duration, email, hostname, ipv4, ipv6, uuid); number `minimum`, `maximum`,
  `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`; array `minItems`, `maxItems`
  (so no `prefixItems`, `oneOf`, `allOf`, `default`, `minLength`, ...); types among string,
  number, integer, boolean, object, array, null; every schema says what it is (type, anyOf,
  $ref, enum or const); an array has one `items` schema;
- O5 `$ref` points into the root's `$defs` and stands alone (the openai SDK's
  `to_strict_json_schema` inlines a `$ref` that has siblings, as the API wants);
- O6 limits: at most 5000 object properties in all, 10 levels of object nesting, 1000 enum
  values, and 120,000 characters of property names, definition names, enum and const values.

Beyond the rules, the arguments a strict model may send (nulls for every optional field, JSON
text for a free-form object) must pass the agent loop's check and the registry's pydantic
models, and a number must still take a parameter expression such as "width / 2".
"""

from __future__ import annotations

import copy
import json
import math
import re
import uuid
from typing import Any

import jsonschema
import pytest
from llm.fake_llm_server import FakeLLMServer, ToolUse, Turn
from pydantic import ValidationError

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import ModelRequest, OpenAICompatibleAdapter, ToolSpec, UserMessage
from solidtype_jupyter.llm.strict_schema import openai_strict_schema
from solidtype_jupyter.llm.tool_executor import ToolBox
from solidtype_jupyter.tools import (
    ToolContext,
    ToolRegistry,
    dashboard_registry,
    default_registry,
    editor_registry,
)
from solidtype_jupyter.tools.arguments_schema import normalized_arguments
from solidtype_jupyter.tools.editor import AddLineArgs

REGISTRIES = {
    "editor": editor_registry,
    "dashboard": dashboard_registry,
    "default": default_registry,
}
TOOLS = [
    (registry_name, definition.name)
    for registry_name, make in REGISTRIES.items()
    for definition in make().definitions()
]
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# Written out again from OpenAI's page, not imported from llm/strict_schema.py: the test must
# not take the rules from the code it checks.
STRICT_KEYWORDS = {
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
STRICT_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}
STRICT_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6"}
STRICT_FORMATS |= {"uuid"}
MAX_PROPERTIES, MAX_DEPTH, MAX_ENUM_VALUES, MAX_STRING_CHARS = 5000, 10, 1000, 120_000


def definition(registry_name: str, tool: str) -> Any:
    return next(d for d in REGISTRIES[registry_name]().definitions() if d.name == tool)


# --- the rule checkers (independent of the code that produces the schemas) ---------------


def anthropic_violations(name: str, schema: dict[str, Any]) -> list[str]:
    problems = []
    if not NAME.match(name):
        problems.append(f"A1 name {name!r}")
    if schema.get("type") != "object":
        problems.append("A2 root type is not 'object'")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        problems.append(f"A2 not a draft 2020-12 schema: {exc.message}")
    if "prefixItems" in json.dumps(schema):
        problems.append("A3 prefixItems")
    return problems


def strict_violations(name: str, schema: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not NAME.match(name):
        problems.append(f"O1 name {name!r}")
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("O2 root is not an object schema")
    defs = schema.get("$defs", {})
    counts = {"properties": 0, "enum": 0, "chars": sum(len(n) for n in defs)}

    def check(node: Any, path: str, depth: int, expanding: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            problems.append(f"O4 {path}: not a schema")
            return
        unknown = set(node) - STRICT_KEYWORDS - ({"$defs"} if path == "" else set())
        if unknown:
            problems.append(f"O4 {path}: unsupported {sorted(unknown)}")
        if not {"type", "anyOf", "$ref", "enum", "const"} & set(node):
            problems.append(f"O4 {path}: says neither type, anyOf, $ref, enum nor const")
        kinds = node.get("type", [])
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not set(kinds) <= STRICT_TYPES:
            problems.append(f"O4 {path}: type {kinds}")
        if "format" in node and node["format"] not in STRICT_FORMATS:
            problems.append(f"O4 {path}: format {node['format']!r}")
        if "enum" in node:
            counts["enum"] += len(node["enum"])
            counts["chars"] += sum(len(v) for v in node["enum"] if isinstance(v, str))
        if isinstance(node.get("const"), str):
            counts["chars"] += len(node["const"])
        if "$ref" in node:
            ref = node["$ref"]
            if len(node) > 1:
                problems.append(f"O5 {path}: $ref with siblings {sorted(set(node) - {'$ref'})}")
            target = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
            if target not in defs:
                problems.append(f"O5 {path}: $ref {ref!r} is not in $defs")
            elif target not in expanding:  # follow a definition for depth, not in a cycle
                check(defs[target], f"{path}->{target}", depth, (*expanding, target))
            return
        if "object" in kinds or "properties" in node:
            depth += 1
            if depth > MAX_DEPTH:
                problems.append(f"O6 {path}: {depth} levels of objects")
            properties = node.get("properties")
            if not isinstance(properties, dict):
                problems.append(f"O3 {path}: object without properties")
                properties = {}
            if node.get("additionalProperties") is not False:
                problems.append(f"O3 {path}: additionalProperties is not false")
            required = node.get("required")
            if not isinstance(required, list) or set(required) != set(properties):
                problems.append(f"O3 {path}: not every property is required")
            if not expanding:  # count each definition once, where it is defined
                counts["properties"] += len(properties)
                counts["chars"] += sum(len(k) for k in properties)
            for key, prop in properties.items():
                check(prop, f"{path}.{key}", depth, expanding)
        if "array" in kinds:
            if not isinstance(node.get("items"), dict):
                problems.append(f"O4 {path}: array without one items schema")
            else:
                check(node["items"], f"{path}[]", depth, expanding)
        for i, branch in enumerate(node.get("anyOf", [])):
            check(branch, f"{path}|{i}", depth, expanding)

    check(schema, "", 0, ())
    for def_name, node in defs.items():
        check(node, f"$defs.{def_name}", 0, ())
    if counts["properties"] > MAX_PROPERTIES:
        problems.append(f"O6 {counts['properties']} properties")
    if counts["enum"] > MAX_ENUM_VALUES:
        problems.append(f"O6 {counts['enum']} enum values")
    if counts["chars"] > MAX_STRING_CHARS:
        problems.append(f"O6 {counts['chars']} characters of names and values")
    return problems


# --- the rules, over every tool of every registry ----------------------------------------


def test_every_registry_offers_tools() -> None:
    for registry_name in REGISTRIES:
        assert any(r == registry_name for r, _ in TOOLS), registry_name


@pytest.mark.parametrize(("registry_name", "tool"), TOOLS)
def test_anthropic_tool_use_accepts_the_schema(registry_name: str, tool: str) -> None:
    d = definition(registry_name, tool)
    assert anthropic_violations(d.name, d.parameters) == []


@pytest.mark.parametrize(("registry_name", "tool"), TOOLS)
def test_openai_strict_mode_accepts_the_strict_schema(registry_name: str, tool: str) -> None:
    d = definition(registry_name, tool)
    assert strict_violations(d.name, openai_strict_schema(d.parameters)) == []


def test_the_checkers_reject_what_pydantic_emits_unchanged() -> None:
    """The checkers can fail: pydantic's own schema of a Point2 tool breaks both rule sets."""
    raw = AddLineArgs.model_json_schema()
    assert any(p.startswith("A3") for p in anthropic_violations("add_line", raw))
    problems = strict_violations("add line", raw)
    assert any("prefixItems" in p for p in problems)
    assert any(p.startswith("O1") for p in problems)
    hand_written = {"type": "object", "properties": {"w": {"type": "number", "default": 1}}}
    problems = strict_violations("box", hand_written)
    assert any(p.startswith("O3") for p in problems)
    assert any("default" in p for p in problems)
    assert strict_violations("box", openai_strict_schema(hand_written)) == []


def test_every_field_that_takes_null_defaults_to_null() -> None:
    """A strict model sends null to leave a field unset: a field where null would mean
    something else than its default would be ambiguous."""
    for registry_name, tool in TOOLS:
        spec = REGISTRIES[registry_name]().spec(tool)
        raw = spec.args.model_json_schema()
        for path, node in [
            ("", raw),
            *((f"$defs.{k}", v) for k, v in raw.get("$defs", {}).items()),
        ]:
            required = set(node.get("required", ()))
            for key, prop in node.get("properties", {}).items():
                takes_null = any(b.get("type") == "null" for b in prop.get("anyOf", ()))
                if takes_null and key not in required:
                    assert prop.get("default") is None, f"{tool}: {path}.{key}"


# --- strict arguments reach the tools intact ---------------------------------------------


def example(node: dict[str, Any], defs: dict[str, Any], fill: bool) -> Any:
    """A value the strict schema allows: optional fields null (fill=False) or filled in."""
    if "$ref" in node:
        return example(defs[node["$ref"].removeprefix("#/$defs/")], defs, fill)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return next(v for v in node["enum"] if v is not None)
    if "anyOf" in node:
        branches = node["anyOf"]
        if not fill and any(b.get("type") == "null" for b in branches):
            return None
        concrete = [b for b in branches if b.get("type") != "null"]
        objects = [b for b in concrete if "$ref" in b or b.get("type") == "object"]
        return example((objects if fill and objects else concrete)[0], defs, fill)
    kind = node["type"]
    if kind == "object":
        return {key: example(prop, defs, fill) for key, prop in node["properties"].items()}
    if kind == "array":
        count = max(node.get("minItems", 0), 1 if fill else 0)
        return [example(node["items"], defs, fill) for _ in range(count)]
    if kind in ("number", "integer"):
        low = node.get("minimum", node.get("exclusiveMinimum", 0) + 1)
        return min(low, node.get("maximum", low)) if kind == "integer" else float(low)
    if kind == "boolean":
        return True
    if kind == "string":
        assert "pattern" not in node, "add an example for strings with a pattern"
        if node.get("format") == "uuid":
            return str(uuid.UUID(int=1))
        return "{}" if "JSON text" in node.get("description", "") else "x"
    raise AssertionError(f"no example for {node}")


@pytest.mark.parametrize("fill", [False, True], ids=["nulls", "filled"])
@pytest.mark.parametrize(("registry_name", "tool"), TOOLS)
def test_what_strict_mode_allows_passes_the_loop_and_the_argument_model(
    registry_name: str, tool: str, fill: bool
) -> None:
    registry = REGISTRIES[registry_name]()
    strict = openai_strict_schema(registry.schema(tool))
    args = example(strict, strict.get("$defs", {}), fill)
    jsonschema.Draft202012Validator(strict).validate(args)  # the example is strict-valid
    checked = ToolBox(registry).check(tool, json.dumps(args))
    assert checked.error is None, checked.error
    try:
        registry.spec(tool).args.model_validate(normalized_arguments(registry.schema(tool), args))
    except ValidationError as exc:
        # a model's own rule (a value_error) may refuse a made-up value, never the shape
        shape_errors = [e for e in exc.errors() if e["type"] not in ("value_error",)]
        assert shape_errors == [], (args, shape_errors)


def run(registry: ToolRegistry, doc: CadDocument, tool: str, args: dict[str, Any]) -> Any:
    result = registry.execute_sync(tool, args, ToolContext(user_id="u", document=doc))
    assert result.ok, result.model_text()
    return result.content


def as_strict(registry: ToolRegistry, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """`args` as a strict model sends them: every property it leaves out, as null."""
    strict = openai_strict_schema(registry.schema(tool))
    return {**dict.fromkeys(strict["properties"]), **args}


def test_strict_calls_build_the_same_part_as_plain_calls() -> None:
    """Nulls take the defaults, JSON text is the object it spells, expressions stay numbers."""
    registry = editor_registry()
    descriptor = openai_strict_schema(registry.schema("hole"))["$defs"]["Descriptor"]
    face = {"type": "PLANE", "normal": [0, 0, 1]}
    calls: list[tuple[str, dict[str, Any], Any]] = [
        ("set_parameter", {"name": "width", "value": 40}, None),
        ("create_sketch", {}, None),
        ("add_rectangle", {"sketch_id": "sketch1", "width": "width", "height": 30}, None),
        ("add_circle", {"sketch_id": "sketch1", "center": ["width / 4", 0], "radius": 5}, None),
        ("extrude", {"sketch_id": "sketch1", "distance": 10}, None),
        (
            "hole",
            {"face": face, "positions": [[-10, 0]], "diameter": 4},
            {"face": {**dict.fromkeys(descriptor["properties"]), **face}},
        ),
        (
            "modify_feature",
            {"feature_id": "extrude1", "changes": {"distance": "width / 4"}},
            {"changes": '{"distance": "width / 4"}'},
        ),
    ]
    plain, strict = CadDocument("part"), CadDocument("part")
    for tool, args, strict_changes in calls:
        run(registry, plain, tool, args)
        run(registry, strict, tool, as_strict(registry, tool, {**args, **(strict_changes or {})}))
    assert [f.model_dump() for f in strict.features] == [f.model_dump() for f in plain.features]
    assert strict.geometry() == plain.geometry()
    expected = (40 * 30 - math.pi * 5**2 - math.pi * 2**2) * 10
    assert strict.geometry()["volume"] == pytest.approx(expected, rel=1e-6)


def test_a_number_still_takes_an_expression_in_both_forms() -> None:
    schema = editor_registry().schema("add_line")
    for form in (schema, openai_strict_schema(schema)):
        validator = jsonschema.Draft202012Validator(form)
        assert validator.is_valid({"sketch_id": "s", "start": ["width / 2", 0], "end": [1, 2]})
        assert not validator.is_valid({"sketch_id": "s", "start": [1, 2, 3], "end": [1, 2]})
        assert not validator.is_valid({"sketch_id": "s", "start": [True, 2], "end": [1, 2]})


def test_a_json_text_that_is_not_json_is_refused_clearly() -> None:
    registry = editor_registry()
    doc = CadDocument()
    result = registry.execute_sync(
        "modify_feature", {"feature_id": "x", "changes": "{distance: 3"}, ToolContext("u", doc)
    )
    assert not result.ok
    assert result.error is not None and result.error.code == "invalid_arguments"
    assert "changes" in result.error.message


# --- the adapters send each provider its form --------------------------------------------


async def test_openai_sdk_request_carries_the_strict_schemas() -> None:
    tools = tuple(
        ToolSpec(d.name, d.description, d.parameters) for d in editor_registry().definitions()
    )
    request = ModelRequest(system="s", messages=(UserMessage("hi"),), tools=tools)
    with FakeLLMServer() as server:
        for strict in (True, False):
            server.openai.push(Turn(tool_calls=[ToolUse("c1", "add_circle", ['{"radius": 1}'])]))
            adapter = OpenAICompatibleAdapter(
                "gpt-test", base_url=server.openai_url, strict_tools=strict
            )
            try:
                async for _ in adapter.stream(request):
                    pass
            finally:
                await adapter.close()
        sent_strict, sent_plain = (r.body["tools"] for r in server.requests_to("openai"))
    assert len(sent_strict) == len(tools)
    for tool, strict_entry, plain_entry in zip(tools, sent_strict, sent_plain, strict=True):
        function = strict_entry["function"]
        assert function["strict"] is True
        assert function["parameters"] == openai_strict_schema(tool.parameters)
        assert strict_violations(function["name"], function["parameters"]) == []
        assert "strict" not in plain_entry["function"]
        assert plain_entry["function"]["parameters"] == tool.parameters


def test_openai_strict_mode_is_the_default_for_openai_only() -> None:
    assert OpenAICompatibleAdapter("gpt-test", api_key="k").strict_tools
    local = OpenAICompatibleAdapter("llama3.1", base_url="http://localhost:11434/v1")
    assert not local.strict_tools


def test_the_strict_form_leaves_the_portable_schema_alone() -> None:
    schema = editor_registry().schema("create_sketch")
    before = copy.deepcopy(schema)
    openai_strict_schema(schema)
    assert schema == before

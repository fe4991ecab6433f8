"""How the loop sees tools: the ``ToolExecutor`` protocol, argument validation, approval levels.

The loop talks to tools only through a ``ToolExecutor`` (``tools.registry.ToolRegistry`` is one):
``definitions()`` to tell the model what exists, ``approval_level(name)`` for the gate, and
``execute(name, args, context)``. Arguments are checked against each tool's JSON Schema here,
before ``execute``; a call that fails the check, an unknown tool, or a tool that raises becomes a
tool error the model reads, never an exception out of the loop.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast, get_args

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as JsonSchemaError

from .types import ImageData, ToolSpec

log = logging.getLogger(__name__)

ApprovalLevel = Literal["auto", "notify", "confirm"]
APPROVAL_LEVELS: tuple[str, ...] = get_args(ApprovalLevel)
#: Tools without a rule need the user's confirmation (seed, section 10).
DEFAULT_APPROVAL: ApprovalLevel = "confirm"


class ToolDefinitionLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def parameters(self) -> Mapping[str, Any]: ...


class ToolResultLike(Protocol):
    """``content`` (JSON-able, or text) and ``is_error``, like ``ToolResult`` below."""

    @property
    def is_error(self) -> bool: ...
    @property
    def content(self) -> Any: ...


class ModelTextResult(Protocol):
    """``tools.registry.ToolResult``: ``ok``, ``model_text()`` (what the model reads) and
    ``images`` (PNG views the model can look at)."""

    @property
    def ok(self) -> bool: ...
    def model_text(self) -> str: ...


class ToolExecutor(Protocol):
    def definitions(self) -> Sequence[ToolDefinitionLike]: ...

    def approval_level(self, name: str) -> str: ...

    def execute(
        self, name: str, args: dict[str, Any], context: Any
    ) -> Awaitable[ToolResultLike | ModelTextResult] | ToolResultLike | ModelTextResult: ...


@dataclass(frozen=True)
class ToolResult:
    """A plain ``ToolResultLike``: ``content`` is JSON-able (or a string sent as is)."""

    content: Any
    is_error: bool = False


@dataclass(frozen=True)
class ToolDefinition:
    """A plain ``ToolDefinitionLike``."""

    name: str
    description: str
    parameters: Mapping[str, Any]


def result_text(content: Any) -> str:
    """Tool output as the string the wire and the model carry (JSON unless already text)."""
    if isinstance(content, str):
        return content
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False, default=str)


def error_text(message: str, **details: Any) -> str:
    return result_text({"error": message, **details})


class ApprovalPolicy:
    """``overrides`` (from configuration) win over the executor's level; anything unknown or
    invalid is ``confirm``."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self.overrides = validate_approval_overrides(overrides or {})

    def level(self, name: str, executor: ToolExecutor) -> ApprovalLevel:
        if name in self.overrides:
            return self.overrides[name]
        try:
            level = executor.approval_level(name)
        except Exception:  # a registry without a rule for this tool
            return DEFAULT_APPROVAL
        return cast(ApprovalLevel, level) if level in APPROVAL_LEVELS else DEFAULT_APPROVAL


def validate_approval_overrides(overrides: Mapping[str, str]) -> dict[str, ApprovalLevel]:
    bad = {k: v for k, v in overrides.items() if v not in APPROVAL_LEVELS}
    if bad:
        raise ValueError(
            f"approval levels must be one of {', '.join(APPROVAL_LEVELS)}; got "
            + ", ".join(f"{k}={v!r}" for k, v in sorted(bad.items()))
        )
    return {k: cast(ApprovalLevel, v) for k, v in overrides.items()}


@dataclass(frozen=True)
class CheckedCall:
    """A tool call whose arguments passed the schema (``args``), or why it did not (``error``)."""

    args: dict[str, Any] | None
    error: str | None


class ToolBox:
    """The executor's tools as the loop uses them: specs for the model, validators per tool."""

    def __init__(self, executor: ToolExecutor) -> None:
        self.executor = executor
        self.specs: dict[str, ToolSpec] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        for definition in executor.definitions():
            schema = dict(definition.parameters)
            try:
                validator = _validator(json.dumps(schema, sort_keys=True))
            except SchemaError as exc:
                raise ValueError(f"tool {definition.name}: invalid JSON Schema: {exc}") from exc
            self.specs[definition.name] = ToolSpec(definition.name, definition.description, schema)
            self._validators[definition.name] = validator

    def check(self, name: str, arguments: str | Mapping[str, Any]) -> CheckedCall:
        if name not in self.specs:
            known = ", ".join(sorted(self.specs)) or "none"
            return CheckedCall(None, error_text(f"unknown tool {name!r}", available=known))
        if isinstance(arguments, str):
            try:
                value = json.loads(arguments) if arguments.strip() else {}
            except ValueError as exc:
                return CheckedCall(
                    None, error_text(f"arguments of {name} are not valid JSON: {exc}")
                )
        else:
            value = dict(arguments)
        if not isinstance(value, dict):
            return CheckedCall(None, error_text(f"arguments of {name} must be a JSON object"))
        problems = [
            problem_text(err)
            for err in sorted(
                self._validators[name].iter_errors(value), key=lambda e: list(e.absolute_path)
            )
            for err in intended_errors(err)
        ]
        if problems:
            return CheckedCall(
                None,
                error_text(f"invalid arguments for {name}", problems=problems[:8], arguments=value),
            )
        return CheckedCall(value, None)

    async def execute(self, name: str, args: dict[str, Any], context: Any) -> ToolOutput:
        """Run a checked call. Exceptions become errors."""
        try:
            outcome = self.executor.execute(name, args, context)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except Exception as exc:
            log.exception("tool %s failed", name)
            return ToolOutput(error_text(f"{name} failed: {exc}"), True)
        return tool_output(outcome)


def intended_errors(err: JsonSchemaError) -> list[JsonSchemaError]:
    """For a value no branch of a union accepts, the errors of the branch it was meant for
    (its tag matches, its type fits) when that is one branch: jsonschema only says "not valid
    under any of the given schemas"."""
    if err.validator not in ("anyOf", "oneOf") or not err.context:
        return [err]
    branches: dict[Any, list[JsonSchemaError]] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [
        errors
        for errors in branches.values()
        if not any(e.validator == "const" or (e.validator == "type" and not e.path) for e in errors)
    ]
    if len(meant) != 1:
        return [err]
    return [inner for sub in meant[0] for inner in intended_errors(sub)]


def problem_text(err: JsonSchemaError) -> str:
    """One violation as the model reads it; unknown properties come with the valid names."""
    where = "/".join(str(p) for p in err.absolute_path) or "(root)"
    if err.validator != "additionalProperties" or not isinstance(err.instance, dict):
        return f"{where}: {err.message}"
    valid = list(err.schema.get("properties", {})) if isinstance(err.schema, dict) else []
    parts = []
    for key in (k for k in err.instance if k not in valid):
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return f"{where}: unknown property {', '.join(parts)}; valid: {', '.join(valid) or 'none'}"


@functools.lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Draft202012Validator:
    """A checked validator per distinct schema: checking a schema costs milliseconds and
    every run builds a ``ToolBox`` for the same tools."""
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@dataclass(frozen=True)
class ToolOutput:
    text: str  # what the model reads and TOOL_CALL_RESULT carries
    is_error: bool
    images: tuple[ImageData, ...] = ()


def tool_output(outcome: Any) -> ToolOutput:
    """A result of either shape (``ToolResultLike`` or ``ModelTextResult``) as ``ToolOutput``."""
    if callable(getattr(outcome, "model_text", None)):
        images = tuple(
            ImageData(str(getattr(i, "mime_type", "image/png")), str(i.data_base64))
            for i in getattr(outcome, "images", None) or ()
        )
        return ToolOutput(str(outcome.model_text()), not bool(outcome.ok), images)
    return ToolOutput(result_text(outcome.content), bool(outcome.is_error))

"""Numeric fields that may name parameters: checked arithmetic, never arbitrary Python."""

from __future__ import annotations

import ast
import keyword
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from .errors import FeatureError

# Arithmetic only: the text of an expression is pasted into the generated script, so
# anything beyond numbers, parameter names and operators would be code injection.
_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.USub,
    ast.UAdd,
)

# Names the generated script itself uses; a parameter may not shadow them.
_RESERVED = {"cq", "math", "result"}
# Feature ids (type + number, e.g. `datum1`) and their derived variables (`sweep1_path`) are
# script variables too; every type of `feature_set.FEATURE_TYPES` must be listed (a test checks).
_GENERATED_NAME = re.compile(
    r"^(sketch|extrude|revolve|fillet|chamfer|hole|shell|boolean|pattern|datum|mirror|split"
    r"|sweep|loft|body)\d+(_\w*)?$"
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def check_parameter_name(name: str, helper_names: set[str]) -> None:
    """Raise FeatureError unless `name` can be a variable of the generated script."""
    if not _IDENTIFIER.match(name) or keyword.iskeyword(name):
        raise FeatureError(f"parameter name {name!r} is not a valid identifier")
    if name in _RESERVED or name in helper_names or _GENERATED_NAME.match(name):
        raise FeatureError(
            f"parameter name {name!r} is reserved (it clashes with a feature, body or helper "
            "name of the generated script)"
        )


# Bounds that keep one expression to microseconds whatever its text: without them
# `9**9**8` computes a 30-million-digit integer while holding the interpreter lock.
#: Longest expression (after stripping), in characters.
MAX_EXPRESSION_LENGTH = 256
#: Deepest nesting of operations.
MAX_EXPRESSION_DEPTH = 32
#: Largest magnitude of any number in an expression: literals, parameters, every
#: intermediate result and the value. Up to here a double holds every integer, so the
#: generated script (which writes whole parameters as ints) computes the same values.
MAX_MAGNITUDE = 1e15
#: Largest magnitude of an exponent.
MAX_EXPONENT = 1000

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _shown(text: str) -> str:
    """The expression as quoted in errors: long ones shortened."""
    text = text.strip()
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _parse(text: str) -> ast.Expression:
    stripped = text.strip()
    if len(stripped) > MAX_EXPRESSION_LENGTH:
        raise FeatureError(
            f"expression {_shown(text)} is {len(stripped)} characters long; expressions have "
            f"at most {MAX_EXPRESSION_LENGTH}"
        )
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        raise FeatureError(
            f"expression {_shown(text)} is not valid arithmetic: {exc.msg}"
        ) from None
    except ValueError as exc:  # e.g. a NUL character (Python 3.11 raises ValueError)
        raise FeatureError(f"expression {_shown(text)} is not valid arithmetic: {exc}") from None
    return tree


def _depth(node: ast.AST) -> int:
    """How many operations are nested at `node` (a number or a name: 0)."""
    if isinstance(node, ast.BinOp):
        return 1 + max(_depth(node.left), _depth(node.right))
    if isinstance(node, ast.UnaryOp):
        return 1 + _depth(node.operand)
    return 0


def expression_names(text: str) -> set[str]:
    """The parameter names an expression uses; FeatureError if it is not plain arithmetic
    within the bounds above."""
    tree = _parse(text)
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise FeatureError(
                f"expression {_shown(text)} may only use numbers, parameter names and "
                "+ - * / // % **"
            )
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, int | float)
        ):
            raise FeatureError(f"expression {_shown(text)} contains a non-numeric constant")
        if isinstance(node, ast.Name):
            names.add(node.id)
    # The evaluator recurses once per level: keep that far from the recursion limit.
    if _depth(tree.body) > MAX_EXPRESSION_DEPTH:
        raise FeatureError(
            f"expression {_shown(text)} nests more than {MAX_EXPRESSION_DEPTH} levels deep"
        )
    return names


def evaluate(text: str, parameters: dict[str, float]) -> float:
    """The value of an expression over `parameters`, computed with Python's own arithmetic
    (the generated script evaluates the same text) but refused before any step could
    produce a number beyond MAX_MAGNITUDE."""
    names = expression_names(text)
    unknown = sorted(names - parameters.keys())
    if unknown:
        known = ", ".join(sorted(parameters)) or "none defined"
        raise FeatureError(
            f"expression {_shown(text)} uses unknown parameter(s) {unknown} ({known})"
        )
    tree = _parse(text)
    value = _Evaluator(text, parameters).value(tree.body)
    return float(value)


class _Evaluator:
    def __init__(self, text: str, parameters: dict[str, float]) -> None:
        self.text = text
        self.parameters = parameters

    def fail(self, reason: str) -> FeatureError:
        return FeatureError(f"expression {_shown(self.text)} cannot be evaluated: {reason}")

    def value(self, node: ast.AST) -> int | float:
        if isinstance(node, ast.Constant):
            return self.bounded(node.value, "a number")
        if isinstance(node, ast.Name):
            return self.bounded(self.parameters[node.id], f"parameter {node.id!r}")
        if isinstance(node, ast.UnaryOp):
            return self.bounded(_UNARY[type(node.op)](self.value(node.operand)), "a result")
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(node.op, ast.Pow):
                self.check_power(left, right)
            try:
                result = _BINARY[type(node.op)](left, right)
            except ZeroDivisionError:
                raise self.fail("division by zero") from None
            except ArithmeticError as exc:
                raise self.fail(str(exc)) from None
            return self.bounded(result, "a result")
        raise self.fail(f"unexpected {type(node).__name__}")  # expression_names refused it

    def check_power(self, base: float, exponent: float) -> None:
        # Refused before computing: the point is never to start a huge power.
        if abs(exponent) > MAX_EXPONENT:
            raise self.fail(f"the exponent {exponent!r} exceeds {MAX_EXPONENT} in magnitude")
        if (
            base != 0
            and abs(base) != 1
            and exponent * math.log10(abs(base)) > math.log10(MAX_MAGNITUDE)
        ):
            raise self.fail(f"{base!r} ** {exponent!r} exceeds {MAX_MAGNITUDE:g}")

    def bounded(self, value: Any, what: str) -> int | float:
        if isinstance(value, complex):  # a negative number to a fractional power
            raise self.fail(f"{what} is not a real number")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{what} is not a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"{what} is not a finite number")
        if abs(value) > MAX_MAGNITUDE:
            raise self.fail(f"{what} exceeds {MAX_MAGNITUDE:g} in magnitude")
        return value


def number_text(value: float) -> str:
    """A float as short Python source: 10 rather than 10.0."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))

"""Numeric fields that may name parameters: checked arithmetic, never arbitrary Python."""

from __future__ import annotations

import ast
import keyword
import math
import re

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
_GENERATED_NAME = re.compile(
    r"^(sketch|extrude|revolve|fillet|chamfer|hole|shell|boolean|pattern|body)\d+(_\w*)?$"
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


def expression_names(text: str) -> set[str]:
    """The parameter names an expression uses; FeatureError if it is not plain arithmetic."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FeatureError(f"expression {text!r} is not valid arithmetic: {exc.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise FeatureError(
                f"expression {text!r} may only use numbers, parameter names and + - * / ** %"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise FeatureError(f"expression {text!r} contains a non-numeric constant")
        if isinstance(node, ast.Name):
            names.add(node.id)
    return names


def evaluate(text: str, parameters: dict[str, float]) -> float:
    """The value of an expression over `parameters`."""
    names = expression_names(text)
    unknown = sorted(names - parameters.keys())
    if unknown:
        known = ", ".join(sorted(parameters)) or "none defined"
        raise FeatureError(f"expression {text!r} uses unknown parameter(s) {unknown} ({known})")
    try:
        value = eval(
            compile(ast.parse(text.strip(), mode="eval"), "<expr>", "eval"),
            {"__builtins__": {}},
            dict(parameters),
        )
    except ArithmeticError as exc:
        raise FeatureError(f"expression {text!r} cannot be evaluated: {exc}") from None
    value = float(value)
    if not math.isfinite(value):
        raise FeatureError(f"expression {text!r} is not a finite number")
    return value


def number_text(value: float) -> str:
    """A float as short Python source: 10 rather than 10.0."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))

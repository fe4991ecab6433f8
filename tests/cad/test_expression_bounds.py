"""Expressions are bounded: no text can make evaluation slow, huge, complex or infinite.

Issue 19 #3: ``9**9**8`` held the interpreter lock for 83 s and then failed with an
OverflowError instead of a FeatureError.
"""

from __future__ import annotations

import time

import pytest

from solidtype_jupyter.cad.errors import FeatureError
from solidtype_jupyter.cad.expressions import (
    MAX_EXPONENT,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_MAGNITUDE,
    evaluate,
    expression_names,
)

from .conftest import Session


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9**9**8", "exponent 43046721 exceeds 1000"),
        ("10**10**6", "exceeds 1000"),
        ("2**2**6", "2 ** 64 exceeds 1e+15"),
        ("10**16", "exceeds 1e+15"),
        ("(-8)**0.5", "not a real number"),
        ("1e300*1e300", "exceeds 1e+15"),
        ("10**15*10", "exceeds 1e+15"),
        ("123456789012345678901234567890", "exceeds 1e+15"),
        ("0.001**-1000", "exceeds 1e+15"),
        ("1/0", "division by zero"),
        ("w % 0", "division by zero"),
        ("0**-1", "division by zero"),
        ("big + 1", "parameter 'big' exceeds"),
        ("True + 1", "non-numeric constant"),
        ("1\x00", "not valid arithmetic"),
        ("-" * (MAX_EXPRESSION_DEPTH + 1) + "1", f"more than {MAX_EXPRESSION_DEPTH} levels"),
        ("1+" * 130 + "1", f"at most {MAX_EXPRESSION_LENGTH}"),
    ],
)
def test_unbounded_expressions_are_refused_at_once(text: str, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(FeatureError) as caught:
        evaluate(text, {"w": 4.0, "big": 1e300})
    assert time.perf_counter() - started < 0.5
    message = str(caught.value)
    assert reason in message, message
    assert message.startswith("expression ")


def test_long_expressions_are_shortened_in_errors() -> None:
    with pytest.raises(FeatureError) as caught:
        expression_names("x + " * 100)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2**10", 1024.0),
        ("w / 2 + 3", 5.0),
        ("10**15", MAX_MAGNITUDE),
        ("-(10**15)", -MAX_MAGNITUDE),
        ("0.5**1000", 0.5**1000),
        ("2**-10", 2**-10),
        ("1**1000", 1.0),
        ("(-1)**999", -1.0),
        ("7 // 2 + 7 % 2", 4.0),
        ("-" * MAX_EXPRESSION_DEPTH + "w", 4.0),
        ("w**2 - w", 12.0),
        (f"1.0001 ** {MAX_EXPONENT}", 1.0001**MAX_EXPONENT),
    ],
)
def test_ordinary_arithmetic_still_works(text: str, value: float) -> None:
    assert evaluate(text, {"w": 4.0}) == value


def test_a_huge_power_in_a_tool_call_is_a_clear_refusal() -> None:
    session = Session("plate")
    session.call("set_parameter", name="thickness", value=8)
    session.call("create_sketch", entities=[{"kind": "rectangle", "width": 60, "height": 40}])
    started = time.perf_counter()
    message = session.refused("extrude", sketch_id="sketch1", distance="thickness**9**8")
    assert time.perf_counter() - started < 5
    assert "exceeds 1000" in message and "distance" in message

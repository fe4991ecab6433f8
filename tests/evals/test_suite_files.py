"""Suite files: a bad line is refused with an error naming the file, the line and why."""

from __future__ import annotations

import json

import pytest

from solidtype_jupyter.evals import SuiteError, load_suite, parse_suite

GOOD = {
    "id": "cube",
    "prompt": "a 20 mm cube",
    "expected": {"volume": 8000, "area": 2400, "bbox": [20, 20, 20]},
}


def _line(**changes: object) -> str:
    case = {**GOOD, **changes}
    return json.dumps({k: v for k, v in case.items() if v is not None})


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "a case must be a JSON object"),
        (_line(expected=None), "expected: Field required"),
        (_line(prompt="  "), "prompt must not be blank"),
        (_line(id="../escape"), "id must be"),
        (_line(expected={"volume": 8000, "area": 2400, "bbox": [20, 20]}), "expected.bbox"),
        (_line(expected={"volume": -1, "area": 2400, "bbox": [20, 20, 20]}), "expected.volume"),
        (_line(tolerance={"volume": 2}), "tolerance.volume"),
        # Python's JSON reads these as inf; an infinite volume made the volume check pass
        (
            '{"id": "c", "prompt": "p", "expected": {"volume": Infinity, "area": 2400, '
            '"bbox": [20, 20, 20]}}',
            "expected.volume: Input should be a finite number",
        ),
        (
            _line(expected={"volume": 8000, "area": 2400, "bbox": [20, 20, 20]}).replace(
                "8000", "1e400"
            ),
            "expected.volume: Input should be a finite number",
        ),
        (
            _line(tolerance={"bbox": 1}).replace('"bbox": 1}', '"bbox": 1e999}'),
            "tolerance.bbox: Input should be a finite number",
        ),
        (_line(tolerance={"bbox_order": "zyx"}), "tolerance.bbox_order"),
        (_line(colour="red"), "colour: Extra inputs are not permitted"),
        (_line(replay=[{"txt": "hi"}]), "unknown keys ['txt']"),
        (_line(replay=[{"prompt": "a cube", "text": "hi"}]), "replay turns take no prompt"),
        (_line(replay=[{"tool_calls": [{"arguments": {}}]}]), "needs a string name"),
    ],
)
def test_a_bad_line_is_refused_naming_the_line(line: str, why: str) -> None:
    text = f"# a comment\n{_line(id='first')}\n\n{line}\n"
    with pytest.raises(SuiteError) as raised:
        parse_suite(text, "mine.jsonl")
    assert str(raised.value).startswith("mine.jsonl:4: "), raised.value
    assert why in str(raised.value)


def test_duplicate_ids_and_empty_suites_are_refused() -> None:
    with pytest.raises(SuiteError, match=r"mine.jsonl:2: case id 'cube' is already used on line 1"):
        parse_suite(f"{_line()}\n{_line()}\n", "mine.jsonl")
    with pytest.raises(SuiteError, match="the suite has no case"):
        parse_suite("# only a comment\n\n", "mine.jsonl")


def test_a_missing_file_and_an_unknown_case_say_so(tmp_path) -> None:
    with pytest.raises(SuiteError, match="no suite at"):
        load_suite(str(tmp_path / "missing.jsonl"))
    path = tmp_path / "s.jsonl"
    path.write_text(_line() + "\n", encoding="utf-8")
    suite = load_suite(str(path))
    assert [c.id for c in suite.cases] == ["cube"]
    assert suite.cases[0].tolerance.volume == 0.001 and suite.cases[0].tolerance.bbox == 0.01
    with pytest.raises(SuiteError, match="has no case sphere"):
        suite.select(["sphere"])

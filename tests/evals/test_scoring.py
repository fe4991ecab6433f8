"""Scoring: a wrong reference fails the right case and names the figure; the rebuild check
catches a script that does not give the document's solid."""

from __future__ import annotations

import asyncio
import json
import math
import time

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.evals import (
    REPLAY,
    Expected,
    Figures,
    Tolerance,
    compare_rebuild,
    eval_model,
    load_suite,
    measure_document,
    parse_suite,
    rebuild_figures,
    run_case,
    score,
)
from solidtype_jupyter.tools import ToolContext, editor_registry


def _builtin_case(case_id: str) -> dict:
    for line in load_suite("builtin").cases:
        if line.id == case_id:
            return line.model_dump(exclude_none=True)
    raise AssertionError(case_id)


def test_a_case_whose_expected_volume_is_off_by_ten_percent_fails_naming_the_figure() -> None:
    raw = _builtin_case("plate")
    raw["expected"]["volume"] *= 1.1
    good = _builtin_case("cube")
    suite = parse_suite(json.dumps(good) + "\n" + json.dumps(raw) + "\n", "broken.jsonl")
    model = eval_model(REPLAY, {})
    results = {c.id: asyncio.run(run_case(c, model)) for c in suite.cases}
    assert results["cube"].passed
    broken = results["plate"]
    assert not broken.passed
    assert [m.figure for m in broken.misses] == ["volume"]
    miss = broken.misses[0]
    assert miss.expected == pytest.approx(21120)
    assert miss.actual == pytest.approx(19200)
    assert miss.message.startswith("volume: expected 21120, got 19200 (-9.09%")


def _plate() -> CadDocument:
    doc = CadDocument("plate")
    ctx = ToolContext(user_id="tester", document=doc)
    registry = editor_registry()
    sketch = {"entities": [{"kind": "rectangle", "width": 60, "height": 40}]}
    assert registry.execute_sync("create_sketch", sketch, ctx).ok
    assert registry.execute_sync("extrude", {"sketch_id": "sketch1", "distance": 8}, ctx).ok
    return doc


def test_each_figure_is_named_with_its_values() -> None:
    figures = measure_document(_plate())
    right = Expected(volume=19200, area=6400, bbox=(60, 40, 8))
    assert score(figures, right, Tolerance()) == []
    # a part lying on another side passes by default, not when the axes are asked for
    assert score(figures, Expected(volume=19200, area=6400, bbox=(8, 60, 40)), Tolerance()) == []
    misses = score(
        figures, Expected(volume=19200, area=6400, bbox=(8, 60, 40)), Tolerance(bbox_order="xyz")
    )
    assert [m.figure for m in misses] == ["bbox"]
    assert misses[0].expected == [8, 60, 40] and misses[0].actual == [60, 40, 8]
    wrong = Expected(volume=19200, area=6500, bbox=(60, 40, 8.05), solids=2, faces=7)
    misses = score(figures, wrong, Tolerance())
    assert [m.figure for m in misses] == ["solids", "area", "bbox", "faces"]
    assert misses[1].message == "area: expected 6500, got 6400 (-1.54%, tolerance 0.1%)"
    # within 0.1% passes
    close = Expected(volume=19200 * 1.0009, area=6400 * 0.9991, bbox=(60.009, 40, 8))
    assert score(figures, close, Tolerance()) == []


def test_an_empty_document_misses_the_solid_and_every_figure() -> None:
    figures = measure_document(CadDocument("nothing"))
    misses = score(figures, Expected(volume=1, area=1, bbox=(1, 1, 1)), Tolerance())
    assert [m.figure for m in misses] == ["solids", "volume", "area", "bbox"]


def test_the_rebuild_check_compares_the_script_with_the_document() -> None:
    doc = _plate()
    figures = measure_document(doc)
    script = doc.to_script()
    rebuilt = asyncio.run(rebuild_figures(script))
    assert compare_rebuild(rebuilt, figures) == []
    assert rebuilt["volume"] == pytest.approx(19200)
    # a script that builds another solid is caught, figure by figure
    other = asyncio.run(rebuild_figures(script.replace(".extrude(8", ".extrude(9")))
    assert "error" not in other, other
    misses = compare_rebuild(other, figures)
    assert {m.figure for m in misses} == {"rebuild.volume", "rebuild.area", "rebuild.bbox"}
    # a script that fails or hangs is a miss saying why, in bounded time
    broken = asyncio.run(rebuild_figures(script.replace("result = ", "result = undefined_")))
    assert broken["error"].startswith("the script failed: NameError")
    [miss] = compare_rebuild(broken, figures)
    assert miss.figure == "rebuild" and "NameError" in miss.message
    hung = asyncio.run(rebuild_figures("import time\ntime.sleep(60)\n", 1.0))
    assert hung == {"error": "the script took longer than 1 s and was stopped"}


def test_a_measurement_that_is_not_a_number_is_a_miss() -> None:
    expected = Expected(volume=8000, area=2400, bbox=(20, 20, 20))
    broken = Figures(solids=1, valid=True, volume=math.nan, area=2400, bbox=(20, 20, 20), faces=6)
    assert [m.figure for m in score(broken, expected, Tolerance())] == ["volume"]
    no_box = broken.model_copy(update={"volume": 8000, "bbox": (20, math.nan, 20)})
    assert [m.figure for m in score(no_box, expected, Tolerance())] == ["bbox"]
    rebuilt = {"solids": 1, "valid": True, "volume": 8000, "area": 2400, "bbox": [20, 20, 20]}
    assert [m.figure for m in compare_rebuild(rebuilt, no_box)] == ["rebuild.bbox"]


def test_a_cancelled_rebuild_kills_its_script_at_once(tmp_path) -> None:
    """Ctrl-C during a rebuild: the run ends now, not when the script would have."""
    mark = tmp_path / "ran-on"
    slow = f"import pathlib, time\ntime.sleep(6)\npathlib.Path({str(mark)!r}).write_text('x')\n"

    async def main(wait: float) -> None:
        task = asyncio.ensure_future(rebuild_figures(slow, 60))
        await asyncio.sleep(wait)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(rebuild_figures("result = None\n"))  # the rebuild server is up
    started = time.monotonic()
    asyncio.run(main(1.0))
    assert time.monotonic() - started < 4  # asyncio.run waited for no thread polling it
    asyncio.run(main(0.0))  # cancelled while the script is being started
    time.sleep(6.5)
    assert not mark.exists()  # both scripts were killed

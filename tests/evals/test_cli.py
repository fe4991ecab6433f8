"""``solidtype-jupyter eval`` end to end, in a subprocess as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from solidtype_jupyter.evals import load_suite

CLI = [sys.executable, "-m", "solidtype_jupyter.cli", "eval"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")}
    env.pop("SOLIDTYPE_MODEL", None)
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "jupyter-config")  # no user config
    return env


def _suite(path: Path, *ids: str, slow: str | None = None) -> Path:
    cases = {c.id: c for c in load_suite("builtin").cases}
    lines = [cases[i].model_dump_json(exclude_none=True) for i in ids]
    if slow is not None:  # a model that takes 100 s to answer: something to interrupt
        case = json.loads(lines[0])
        case["id"] = slow
        case["replay"] = [{"text": ["."], "repeat": 1000, "delay_ms": 100}]
        lines.append(json.dumps(case))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(tmp_path),
        cwd=tmp_path,
        check=False,
    )


def test_eval_writes_results_and_reports_and_resume_skips_finished_cases(tmp_path) -> None:
    suite = _suite(tmp_path / "small.jsonl", "cube", "enlarge_hole")
    out = tmp_path / "out"
    done = _run(tmp_path, str(suite), "--model", "replay", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "2/2 passed (100%)" in done.stdout
    # not a terminal: one progress line per finished case
    assert "cube: pass" in done.stderr and "enlarge_hole: pass" in done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["model"] == "replay" and results["pass_rate"] == 1.0
    assert [c["id"] for c in results["cases"]] == ["cube", "enlarge_hole"]
    first = {c["id"]: c for c in results["cases"]}
    assert first["enlarge_hole"]["approvals"] == 1 and first["cube"]["pass"] is True
    report = (out / "report.md").read_text()
    assert "| [cube](#cube) | ✅ |" in report and "volume: 8000 → 8000" in report
    page = (out / "report.html").read_text()
    assert "<h2 id='enlarge_hole'>" in page
    if first["cube"]["picture"]:  # drawn where offscreen OpenGL works (CI installs it)
        assert (out / first["cube"]["picture"]).read_bytes().startswith(b"\x89PNG")
        assert "data:image/png;base64," in page
    assert (out / "parts" / "cube.py").read_text().startswith("# cube: CadQuery script")

    # the same folder again without --resume is refused: results are never overwritten
    again = _run(tmp_path, str(suite), "--model", "replay", "--out", str(out))
    assert again.returncode == 2
    assert "already holds results" in again.stderr and "--resume" in again.stderr

    # a third case: --resume runs it alone and keeps the two finished ones as they were
    bigger = _suite(tmp_path / "bigger.jsonl", "cube", "enlarge_hole", "cup")
    resumed = _run(tmp_path, str(bigger), "--model", "replay", "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "[3/3] cup: pass" in resumed.stderr
    assert "cube:" not in resumed.stderr and "enlarge_hole:" not in resumed.stderr
    results = json.loads((out / "results.json").read_text())
    assert [c["id"] for c in results["cases"]] == ["cube", "enlarge_hole", "cup"]
    assert {c["id"]: c for c in results["cases"]}["cube"] == first["cube"]
    assert results["complete"] is True and results["passed"] == 3

    # resuming with another model is refused
    other = _run(
        tmp_path, str(bigger), "--model", "scripted:quickstart", "--out", str(out), "--resume"
    )
    assert other.returncode == 2 and "holds results of the model replay" in other.stderr


def test_a_failing_case_exits_1_and_the_report_names_the_figure(tmp_path) -> None:
    suite = tmp_path / "wrong.jsonl"
    case = load_suite("builtin").select(["plate"]).cases[0].model_dump(exclude_none=True)
    case["expected"]["volume"] *= 1.1
    suite.write_text(json.dumps(case) + "\n", encoding="utf-8")
    done = _run(tmp_path, str(suite), "--model", "replay", "--out", "out", "--no-pictures")
    assert done.returncode == 1, done.stderr
    assert "plate: FAIL" in done.stderr and "volume: expected 21120, got 19200" in done.stderr
    assert "volume: expected 21120, got 19200" in (tmp_path / "out" / "report.md").read_text()


def test_ctrl_c_keeps_the_finished_cases(tmp_path) -> None:
    suite = _suite(tmp_path / "s.jsonl", "cube", slow="slow")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*CLI, str(suite), "--model", "replay", "--out", str(out), "--no-pictures"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            path = out / "results.json"
            if path.exists() and json.loads(path.read_text())["completed"] == 1:
                break
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        time.sleep(1)  # the slow case is running
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    results = json.loads((out / "results.json").read_text())
    assert [c["id"] for c in results["cases"]] == ["cube"] and results["complete"] is False
    assert "interrupted: 1 of 2 cases finished" in (out / "report.md").read_text()


def test_print_suite_and_usage_errors(tmp_path) -> None:
    printed = _run(tmp_path, "--print-suite", "builtin")
    assert printed.returncode == 0
    copy = tmp_path / "copy.jsonl"
    copy.write_text(printed.stdout, encoding="utf-8")
    assert len(load_suite(str(copy)).cases) == len(load_suite("builtin").cases)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    refused = _run(tmp_path, str(bad), "--model", "replay")
    assert refused.returncode == 2
    assert f"{bad}:1: " in refused.stderr and "prompt: Field required" in refused.stderr
    no_model = _run(tmp_path, "builtin")
    assert no_model.returncode == 2 and "No chat model is configured" in no_model.stderr
    assert "`--model replay` checks the suite" in no_model.stderr
    no_key = _run(tmp_path, "builtin", "--model", "anthropic:claude-sonnet")
    assert no_key.returncode == 2 and "Traceback" not in no_key.stderr
    assert "ANTHROPIC_API_KEY is not set" in no_key.stderr
    assert not (tmp_path / "eval-results").exists()

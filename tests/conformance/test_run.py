"""`make conformance` (run.py) says what it ran: a pass is claimed only for the databases
the suite ran on, and a skipped database is named with the reason."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent / "run.py"
_spec = importlib.util.spec_from_file_location("conformance_run", RUN)
assert _spec and _spec.loader
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def test_a_skipped_postgresql_is_not_reported_as_passed():
    text, status = run.summary(["sqlite"], [], {"postgresql": "SOLIDTYPE_TEST_POSTGRES_URL unset"})
    assert text.splitlines() == [
        "Durable Streams conformance passed on: SQLite",
        "Durable Streams conformance NOT RUN on PostgreSQL: SOLIDTYPE_TEST_POSTGRES_URL unset",
    ]
    assert status == 0


def test_failures_and_required_skips_fail_the_run():
    text, status = run.summary(["sqlite", "postgresql"], ["postgresql"], {})
    assert "passed on: SQLite" in text and "FAILED on: PostgreSQL" in text and status == 1
    _, status = run.summary(["sqlite"], [], {"postgresql": "unset"}, required=True)
    assert status == 1


def test_postgresql_alone_without_a_server_says_nothing_ran():
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("SOLIDTYPE_TEST_POSTGRES_URL", "SOLIDTYPE_REQUIRE_POSTGRES")
    }
    result = subprocess.run(
        [sys.executable, str(RUN), "--backend", "postgresql"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "passed" not in result.stdout
    assert "NOT RUN on PostgreSQL: SOLIDTYPE_TEST_POSTGRES_URL is unset" in result.stdout
    assert "did not run on any database" in result.stdout

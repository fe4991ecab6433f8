"""Without chromium the browser tests skip with the reason, or fail when CI requires them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import conftest


def test_missing_chromium_skips_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("SOLIDTYPE_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing"):
        conftest._browser_or_skip()
    assert "skipping browser tests" in capsys.readouterr().out


def test_missing_chromium_fails_when_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("SOLIDTYPE_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="SOLIDTYPE_REQUIRE_BROWSER=1"):
        conftest._browser_or_skip()

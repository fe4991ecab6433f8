"""``solidtype-jupyter mcp`` started wrongly says what is wrong on stderr and exits 2, with no
traceback, before it speaks MCP (a client shows the server's stderr when it fails to start).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("solidtype-jupyter"))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--document", "nowhere/deeper/x.solid.json"],
            "--document: no folder 'nowhere/deeper' for 'x.solid.json': create the folder first",
        ),
        (["--document", "notes.txt"], "--document: 'notes.txt' is not a .solid.json file"),
        (["--document", "../x.solid.json"], "outside"),
        (["--root", "missing-folder"], "--root: missing-folder is not a folder"),
    ],
)
def test_bad_start_is_said_plainly(tmp_path: Path, args: list[str], said: str) -> None:
    done = subprocess.run(
        [CLI, "mcp", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # stdout is the MCP channel: nothing else goes there
    assert list(tmp_path.iterdir()) == []  # nothing created

"""The installed package: both extensions enabled with no manual step, the wheel ships them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*args: str) -> str:
    result = subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout + result.stderr


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_server_extension_is_enabled_on_install():
    output = _plain(_run("jupyter", "server", "extension", "list"))
    assert re.search(r"solidtype_jupyter\s+enabled", output), output
    assert re.search(r"solidtype_jupyter \S+ OK", output), output


def test_labextension_is_installed_and_enabled():
    output = _plain(_run("jupyter", "labextension", "list"))
    assert re.search(r"solidtype-jupyter v\S+ enabled\s+OK", output), output


@pytest.mark.skipif(shutil.which("npm") is None, reason="building the wheel needs npm")
def test_wheel_ships_prebuilt_labextension_and_server_config(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("solidtype_jupyter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n.split("/")[0] for n in names if ".data/" in n)
    lab = f"{data}/data/share/jupyter/labextensions/solidtype-jupyter/"
    assert f"{lab}package.json" in names
    assert f"{lab}install.json" in names
    assert any(n.startswith(f"{lab}static/remoteEntry.") for n in names), names
    assert f"{data}/data/etc/jupyter/jupyter_server_config.d/solidtype_jupyter.json" in names
    assert "solidtype_jupyter/store/migrations/versions/0001_baseline.py" in names

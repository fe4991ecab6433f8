"""Using the product never dirties the checkout: `make lab` serves the demos from a
git-ignored working copy, what the demos write is ignored and stays out of the sdist, and
the labextension's lock file is complete, so installing never has to rewrite it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What using the demos writes: `make lab`'s working copy (notebooks autosaved with outputs,
# a user's own notebook, the documents and exports the demos write, jupyter-collaboration's
# .jupyter/ and ystore) and the same files next to notebooks/ when they are run from there;
# an evaluation's results.
GENERATED = [
    "{lab}/01-quickstart.ipynb",
    "{lab}/my-own-part.ipynb",
    "{lab}/plate.solid.json",
    "{lab}/plate.step",
    "{lab}/.jupyter/collaboration_sessions.json",
    "{lab}/.jupyter_ystore.db",
    "{lab}/.ipynb_checkpoints/01-quickstart-checkpoint.ipynb",
    "notebooks/plate.solid.json",
    "notebooks/plate.step",
    "notebooks/bracket.solid.json",
    "notebooks/washer.solid.json",
    "notebooks/.jupyter/collaboration_sessions.json",
    ".jupyter_ystore.db",
    # `solidtype-jupyter eval` (default --out) and notebook 05, run from either place
    "eval-results/results.json",
    "{lab}/eval-results/report.html",
    "notebooks/eval-results/report.md",
]
SHIPPED = ["notebooks/01-quickstart.ipynb", "pyproject.toml", "solidtype_jupyter/__init__.py"]


def lab_dir() -> str:
    found = re.search(r"^LAB_DIR := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found, "the Makefile names `make lab`'s working copy in `LAB_DIR := <dir>`"
    return found.group(1)


def generated_paths() -> list[str]:
    return [path.format(lab=lab_dir()) for path in GENERATED]


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_what_using_the_demos_writes_is_git_ignored():
    # check-ignore lists the ignored paths among those given; tracked files never are.
    result = git("check-ignore", *generated_paths(), *SHIPPED)
    assert result.returncode in (0, 1), result.stderr
    ignored = set(result.stdout.split())
    assert set(generated_paths()) - ignored == set(), "add these to .gitignore"
    assert ignored & set(SHIPPED) == set()


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
@pytest.mark.timeout(600)
def test_sdist_leaves_out_what_using_the_demos_writes(tmp_path):
    pytest.importorskip("build", reason="building the sdist needs `build` (the test extra)")
    # Build from a copy of the tracked files (the checkout stays untouched), with the
    # generated files beside them, as after `make lab` and the demos.
    source = tmp_path / "source"
    tracked = git("ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    built = ROOT / "solidtype_jupyter" / "labextension"
    if not (built / "static" / "style.js").is_file():
        pytest.skip("build the labextension first (make install): the sdist ships it")
    # The prebuilt labextension is what the sdist ships; with it the build runs no npm.
    shutil.copytree(built, source / "solidtype_jupyter" / "labextension")
    for name in generated_paths():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("{}")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path / "dist"), "."],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=540,
    )
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {member.name.split("/", 1)[1] for member in archive if "/" in member.name}
    assert set(SHIPPED) <= names
    assert any(name.startswith("solidtype_jupyter/labextension/static/") for name in names)
    leaked = sorted(
        name for name in names if name in generated_paths() or name.startswith(f"{lab_dir()}/")
    )
    assert leaked == [], f"the sdist ships generated files: {leaked}"


@pytest.mark.skipif(shutil.which("npm") is None, reason="needs npm")
def test_labextension_lock_file_is_complete_for_npm_ci(tmp_path):
    # An incomplete lock (e.g. optional platform packages missing) is what makes
    # `npm install` rewrite it; `npm ci` refuses such a lock, offline and at once.
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(ROOT / "labextension" / name, tmp_path / name)
    result = subprocess.run(
        ["npm", "ci", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        "labextension/package-lock.json is out of step with package.json; update it with "
        f"`cd labextension && npm install` and commit it:\n{result.stderr[:2000]}"
    )

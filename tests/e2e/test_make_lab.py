"""`make lab` as a newcomer uses it (issue 18 #7): the URL it prints opens the quickstart, the
demo runs, and after the server stops the checkout is as it was (`git status`)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .conftest import ARTIFACTS, REPO, _browser_or_skip, _free_port, lab_environment
from .test_notebook_chat import run_all

URL_WAIT = 300  # s; `make lab` checks the environment first


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def printed_url(log: Path, port: int, process: subprocess.Popen[bytes]) -> str:
    pattern = re.compile(rf"http://127\.0\.0\.1:{port}/\S+")
    deadline = time.monotonic() + URL_WAIT
    while time.monotonic() < deadline:
        found = pattern.search(log.read_text(errors="replace"))
        if found:
            return found.group(0)
        assert process.poll() is None, f"make lab stopped:\n{log.read_text()}"
        time.sleep(0.5)
    raise AssertionError(f"make lab printed no URL in {URL_WAIT} s:\n{log.read_text()}")


def test_make_lab_opens_the_quickstart_and_leaves_the_checkout_clean(
    tmp_path: Path, sqlite_url: str, browser_page: Any
) -> None:
    _browser_or_skip()
    before = git_status()
    # A folder of its own inside `make lab`'s working copy: the developer's own copy (if
    # any) is left alone, and what the demo writes lands where a newcomer's would.
    lab_dir = Path(".lab") / f"e2e-{os.urandom(4).hex()}"
    made_lab_root = not (REPO / ".lab").exists()
    port = _free_port()
    log = tmp_path / "make-lab.log"
    # No token of ours: Jupyter prints a URL with the token only when it generated it.
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_DIR={lab_dir}", f"LAB_ARGS={args}"],
            cwd=REPO,
            env=lab_environment(tmp_path, sqlite_url, {}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and jupyter stop together
        )
    try:
        open_run_and_stop(process, port, log, lab_dir, browser_page)
        assert git_status() == before, "using `make lab` changed the checkout"
    finally:
        shutil.rmtree(REPO / lab_dir, ignore_errors=True)
        if made_lab_root:
            shutil.rmtree(REPO / ".lab", ignore_errors=True)


def open_run_and_stop(
    process: subprocess.Popen[bytes],
    port: int,
    log: Path,
    lab_dir: Path,
    page: Any,
) -> None:
    try:
        url = printed_url(log, port, process)
        assert "/lab/tree/01-quickstart.ipynb" in url, url
        page.set_viewport_size({"width": 1600, "height": 1000})
        page.goto(url)
        current = page.locator(".jp-MainAreaWidget .jp-NotebookPanel-notebook")
        current.wait_for(timeout=90_000)
        tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
        assert tab.inner_text().strip() == "01-quickstart.ipynb"
        page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=90_000)
        run_all(page)
        page.locator(".st-chat-status-text", has_text="Ready").wait_for(timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "make-lab-quickstart.png"))
        # The demo wrote its document in the working copy, which git ignores.
        assert (REPO / lab_dir / "plate.solid.json").exists()
        page.keyboard.press("Control+s")  # a newcomer saves: outputs land in the copy
        page.wait_for_timeout(1000)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.copyfile(log, ARTIFACTS / "make-lab.log")

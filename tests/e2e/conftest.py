"""Browser tests: JupyterLab started by the test, driven by Playwright in Debian's chromium.

Without /usr/bin/chromium the tests are skipped with the reason; with
SOLIDTYPE_REQUIRE_BROWSER=1 (CI) they fail instead. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("SOLIDTYPE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL without a GPU (the 3D viewer), as measured in the CAD notes.
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def _browser_or_skip() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the Python package playwright is not installed (pip install playwright)"
    if problem is None:
        return
    if os.environ.get("SOLIDTYPE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (SOLIDTYPE_REQUIRE_BROWSER=1) but {problem}")
    print(f"skipping browser tests: {problem}")
    pytest.skip(f"browser tests need Debian's chromium: {problem}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def open(self, path: str) -> str:
        return f"{self.url}lab/tree/{path}?token={self.token}"


@pytest.fixture
def lab_server_config() -> dict[str, Any]:
    """Extra Jupyter server configuration of the lab (a test module overrides this)."""
    return {}


def lab_environment(
    tmp_path: Path, sqlite_url: str, server_config: dict[str, Any]
) -> dict[str, str]:
    """The environment of a JupyterLab of its own: config, settings, workspaces and database
    under ``tmp_path``, no model or key from the developer's environment."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps(server_config))
    # JupyterLab asks about its news feed in a toast that sits over the right-hand panel's
    # input box; a newcomer dismisses it, a test answers it in the settings ("Never").
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(os.environ)
    for name in ("SOLIDTYPE_MODEL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)
    env.update(
        SOLIDTYPE_DATABASE_URL=sqlite_url,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        SOLIDTYPE_USER="e2e-user",
    )
    return env


@pytest.fixture
def lab(tmp_path: Path, sqlite_url: str, lab_server_config: dict[str, Any]) -> Iterator[Lab]:
    """A JupyterLab server on a free loopback port, a fresh root, config and database."""
    _browser_or_skip()
    root = tmp_path / "root"
    root.mkdir()
    env = lab_environment(tmp_path, sqlite_url, lab_server_config)
    port = _free_port()
    token = "e2e-" + os.urandom(8).hex()
    log = tmp_path / "lab.log"
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
        "--ServerApp.port_retries=0",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}api/status?token={token}", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not start:\n{log.read_text()}") from None
                time.sleep(0.5)
        yield Lab(url, token, root, log)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        kept = ARTIFACTS / "lab.log"
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(log, kept)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        messages: list[str] = []
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
        page.console_messages = messages  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            try:  # the last state, for a failed test
                page.screenshot(path=str(ARTIFACTS / "e2e-last.png"))
            finally:
                (ARTIFACTS / "console.log").write_text("\n".join(messages))
            context.close()
            browser.close()

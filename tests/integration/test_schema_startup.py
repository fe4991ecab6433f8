"""A real `jupyter server` process: it upgrades an embedded SQLite database by itself, refuses
to start on a PostgreSQL schema that is behind, and starts once `db upgrade` has run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from solidtype_jupyter.store import schema_status

BIN = Path(sys.executable).parent
TOKEN = "schema-startup-test-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server(database_url: str, tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        # Our own Jupyter dirs: nothing from the developer's config leaks in.
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    env.pop("SOLIDTYPE_DATABASE_URL", None)
    (tmp_path / "root").mkdir(exist_ok=True)
    return subprocess.Popen(
        [
            str(BIN / "jupyter"),
            "server",
            "--no-browser",
            f"--port={port}",
            "--port-retries=0",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={tmp_path / 'root'}",
            f"--SolidTypeApp.database_url={database_url}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_for_health(process: subprocess.Popen[str], port: int, timeout: float = 90) -> dict:
    url = f"http://127.0.0.1:{port}/solidtype/api/health?token={TOKEN}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"server exited with {process.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return dict(json.loads(response.read()))
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    pytest.fail("server did not answer its health route in time")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_server_refuses_a_postgres_schema_that_is_behind_until_db_upgrade(
    postgres_url: str, tmp_path: Path
):
    port = _free_port()
    refused = _server(postgres_url, tmp_path, port)
    try:
        output, _ = refused.communicate(timeout=120)
    finally:
        _stop(refused)
    assert refused.returncode != 0, output
    assert "solidtype-jupyter db upgrade" in output, output
    assert not schema_status(postgres_url).up_to_date  # the server did not touch it

    upgrade = subprocess.run(
        [str(BIN / "solidtype-jupyter"), "db", "upgrade", "--database-url", postgres_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr

    started = _server(postgres_url, tmp_path, port)
    try:
        health = _wait_for_health(started, port)
    finally:
        _stop(started)
    assert health["database"] == {"backend": "postgresql"}


def test_server_upgrades_embedded_sqlite_itself(sqlite_url: str, tmp_path: Path):
    port = _free_port()
    started = _server(sqlite_url, tmp_path, port)
    try:
        health = _wait_for_health(started, port)
    finally:
        _stop(started)
    assert health["database"] == {"backend": "sqlite"}
    assert schema_status(sqlite_url).up_to_date

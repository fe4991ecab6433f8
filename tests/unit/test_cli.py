"""The `solidtype-jupyter` command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from solidtype_jupyter import __version__

COMMAND = str(Path(sys.executable).parent / "solidtype-jupyter")


def run(*args: str, env_update: dict[str, str] | None = None, **kwargs):
    env = {**os.environ, **(env_update or {})}
    return subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, timeout=120, env=env, **kwargs
    )


def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "db" in result.stdout and "--version" in result.stdout


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"solidtype-jupyter {__version__}"


def test_db_upgrade_then_status_on_sqlite(sqlite_url):
    status = run("db", "status", "--database-url", sqlite_url)
    assert status.returncode == 1, "a new database is behind"
    assert "behind" in status.stdout
    upgrade = run("db", "upgrade", "--database-url", sqlite_url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "up to date" in upgrade.stdout
    assert run("db", "status", "--database-url", sqlite_url).returncode == 0


def test_db_upgrade_on_postgres(postgres_url):
    upgrade = run("db", "upgrade", "--database-url", postgres_url)
    assert upgrade.returncode == 0, upgrade.stderr
    status = run("db", "status", "--database-url", postgres_url)
    assert status.returncode == 0 and "postgresql schema" in status.stdout


def test_db_upgrade_reads_url_from_environment(tmp_path):
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    result = run("db", "upgrade", env_update={"SOLIDTYPE_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()


def test_db_upgrade_reads_url_from_jupyter_config(tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    url = f"sqlite:///{tmp_path / 'from-config.db'}"
    config = {"SolidTypeApp": {"database_url": url}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    result = run("db", "upgrade", env_update={"JUPYTER_CONFIG_DIR": str(config_dir)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-config.db").exists()


def test_unsupported_database_url_is_a_clear_error():
    result = run("db", "upgrade", "--database-url", "mysql://u@h/db")
    assert result.returncode == 2
    assert "supported: sqlite, postgresql" in result.stderr
    assert "Traceback" not in result.stderr


def test_streams_serve_with_uvloop_missing_is_a_clear_error(tmp_path):
    hidden = tmp_path / "hidden"
    (hidden / "uvloop").mkdir(parents=True)
    (hidden / "uvloop" / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    result = run(
        "streams",
        "serve",
        "--event-loop",
        "uvloop",
        "--database-url",
        "memory://",
        env_update={"PYTHONPATH": str(hidden)},
    )
    assert result.returncode == 2
    assert "--event-loop uvloop: uvloop is not installed" in result.stderr
    assert "Traceback" not in result.stderr

"""Run the official Durable Streams conformance suite against the extension.

For each backend (SQLite always; PostgreSQL when SOLIDTYPE_TEST_POSTGRES_URL names a
server) this starts a real jupyter_server with the solidtype extension on a fresh
database, with ``streams_public`` (the suite cannot authenticate) and a short long-poll
timeout, runs the pinned suite (``npm ci`` first, see the Makefile), and prints the
suite's own summary, then which databases passed, failed or were not run and why. Exit
status: non-zero if any run failed, if none ran, or if SOLIDTYPE_REQUIRE_POSTGRES=1 and no
PostgreSQL was given.

    python tests/conformance/run.py [--backend sqlite|postgresql|all]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
LONG_POLL_TIMEOUT_SECONDS = 0.5
# The suite cannot authenticate: the stream routes are public on its servers.
PUBLIC_STREAMS = ("--SolidTypeApp.streams_public=True",)
SUITE_LONG_POLL_TIMEOUT_MS = 1000  # the suite's per-test allowance: timeout + 1 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    from solidtype_jupyter.store.database import normalize_database_url

    admin_url = normalize_database_url(server_url)
    name = f"solidtype_conformance_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def jupyter_server(database_url: str, workdir: Path, extra: Sequence[str] = ()) -> Iterator[str]:
    """A jupyter_server with the extension in a subprocess (no token); ``extra``: more
    command-line settings. Yields ``http://127.0.0.1:{port}/solidtype``."""
    port = free_port()
    log_path = workdir / "server.log"
    command = [
        str(BIN / "jupyter"),
        "server",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={workdir}",
        "--IdentityProvider.token=",
        "--ServerApp.jpserver_extensions={'solidtype_jupyter': True}",
        f"--SolidTypeApp.database_url={database_url}",
        f"--SolidTypeApp.long_poll_timeout={LONG_POLL_TIMEOUT_SECONDS}",
        *extra,
    ]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config")}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/solidtype"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"jupyter server exited:\n{log_path.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/health", timeout=2):
                    break  # the extension answers: ready
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter server not ready:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_suite(base_url: str, label: str) -> int:
    print(f"\n=== Durable Streams conformance suite: {label} ({base_url}) ===", flush=True)
    env = {
        **os.environ,
        "CONFORMANCE_TEST_URL": base_url,
        "LONG_POLL_TIMEOUT_MS": str(SUITE_LONG_POLL_TIMEOUT_MS),
        "NO_COLOR": "1",
    }
    return subprocess.call(
        ["npx", "vitest", "run", "conformance.test.mjs", "--no-coverage", "--reporter=dot"],
        cwd=HERE,
        env=env,
    )


def run_backend(backend: str) -> int:
    with tempfile.TemporaryDirectory(prefix=f"ds-conformance-{backend}-") as tmp:
        workdir = Path(tmp)
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'solidtype.db'}"
            with jupyter_server(url, workdir, PUBLIC_STREAMS) as base:
                return run_suite(base, "SQLite")
        server_url = os.environ["SOLIDTYPE_TEST_POSTGRES_URL"]
        with postgres_database(server_url) as url:
            # A PostgreSQL schema is never upgraded by the server itself (see README).
            subprocess.check_call(
                [str(BIN / "solidtype-jupyter"), "db", "upgrade", "--database-url", url]
            )
            with jupyter_server(url, workdir, PUBLIC_STREAMS) as base:
                return run_suite(base, "PostgreSQL")


LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def summary(
    ran: Sequence[str], failed: Sequence[str], skipped: dict[str, str], required: bool = False
) -> tuple[str, int]:
    """The closing lines and the exit status: what ran and passed or failed, what was
    skipped and why (``required``: a skip is a failure); a pass is claimed only for
    backends the suite really ran on."""
    lines = []
    passed = [backend for backend in ran if backend not in failed]
    if passed:
        lines.append("Durable Streams conformance passed on: " + _labels(passed))
    if failed:
        lines.append("Durable Streams conformance FAILED on: " + _labels(failed))
    for backend, why in skipped.items():
        lines.append(f"Durable Streams conformance NOT RUN on {LABELS[backend]}: {why}")
    if not ran:
        lines.append("Durable Streams conformance did not run on any database")
    return "\n".join(lines), 1 if failed or not ran or (skipped and required) else 0


def _labels(backends: Sequence[str]) -> str:
    return ", ".join(LABELS[backend] for backend in backends)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    failed: list[str] = []
    skipped: dict[str, str] = {}
    required = os.environ.get("SOLIDTYPE_REQUIRE_POSTGRES") == "1"
    if "postgresql" in backends and not os.environ.get("SOLIDTYPE_TEST_POSTGRES_URL"):
        backends.remove("postgresql")
        skipped["postgresql"] = (
            "SOLIDTYPE_TEST_POSTGRES_URL is unset (set it to a server's URL, e.g. "
            "postgresql://postgres@127.0.0.1:5432/test, to run the suite there too)"
            + (", and SOLIDTYPE_REQUIRE_POSTGRES=1 makes that a failure" if required else "")
        )
    if backends and not (HERE / "node_modules").is_dir():
        print("run `npm ci` in tests/conformance first (make conformance does)", file=sys.stderr)
        return 2
    for backend in backends:
        if run_backend(backend) != 0:
            failed.append(backend)
    text, status = summary(backends, failed, skipped, required)
    print("\n" + text)
    return status


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())

"""Run ``solidtype-jupyter streams serve`` as a real subprocess for the tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CLI = str(Path(sys.executable).parent / "solidtype-jupyter")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    database_url: str, port: int, log_path: Path, event_loop: str = "auto"
) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [
                CLI,
                "streams",
                "serve",
                "--port",
                str(port),
                "--database-url",
                database_url,
                "--long-poll-timeout",
                "1",
                "--event-loop",
                event_loop,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"streams serve exited: {log_path.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stream/__probe", timeout=1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"streams serve not ready: {log_path.read_text()[-3000:]}")
        time.sleep(0.1)


@contextlib.contextmanager
def stream_server(database_url: str, log_path: Path, event_loop: str = "auto") -> Iterator[str]:
    """The base URL (``http://127.0.0.1:<port>/v1/stream``) of a running server."""
    port = free_port()
    server = start_server(database_url, port, log_path, event_loop)
    try:
        yield f"http://127.0.0.1:{port}/v1/stream"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

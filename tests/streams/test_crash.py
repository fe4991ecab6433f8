"""Crash safety: SIGKILL the server while a writer appends; nothing acknowledged is lost."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

from .standalone import free_port, start_server


def request(url: str, method: str = "GET", body: bytes | None = None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def append(url: str, n: int) -> tuple[int, str]:
    status, headers, _ = request(
        url,
        "POST",
        json.dumps({"n": n}).encode(),
        {
            "Content-Type": "application/json",
            "Producer-Id": "crash-writer",
            "Producer-Epoch": "0",
            "Producer-Seq": str(n),
        },
    )
    return status, headers.get("Stream-Next-Offset", "")


def test_acknowledged_appends_survive_sigkill(durable_url, tmp_path):
    log = tmp_path / "server.log"
    port = free_port()
    server = start_server(durable_url, port, log)
    stream = f"http://127.0.0.1:{port}/v1/stream/ai-chat/crash"
    assert request(stream, "PUT", b"[]", {"Content-Type": "application/json"})[0] == 201

    acked: list[tuple[int, str]] = []  # (n, offset after it) for every 200 the writer got
    attempted = [0]
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            attempted[0] = n + 1
            try:
                status, offset = append(stream, n)
            except OSError:
                return  # the server is gone: this append is unacknowledged
            assert status == 200, status
            acked.append((n, offset))
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acked) < 50:
        time.sleep(0.01)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()

    server = start_server(durable_url, port, log)
    try:
        status, _, body = request(f"{stream}?offset=-1")
        assert status == 200
        stored = [item["n"] for item in json.loads(body)]
        # Every acknowledged append is there, once, in order; at most the one in flight
        # at the kill may have been committed without its answer arriving.
        assert stored[: len(acked)] == [n for n, _ in acked]
        assert stored == list(range(len(stored)))
        assert len(acked) <= len(stored) <= attempted[0]

        # A reader that had reached the 10th acknowledged offset resumes with no gap and no
        # duplicate.
        resume_from = acked[9][1]
        status, _, body = request(f"{stream}?offset={resume_from}")
        assert [item["n"] for item in json.loads(body)] == stored[10:]

        # The writer retries what it never saw acknowledged: the producer state survived,
        # so a committed retry is a duplicate (204) and a lost one is stored (200).
        next_n = len(acked)
        status, offset = append(stream, next_n)
        assert status == (204 if len(stored) > next_n else 200)
        status, offset = append(stream, next_n + 1)
        assert status == 200
        assert offset > acked[-1][1] > acked[0][1]  # offsets continue past the crash
        status, _, body = request(f"{stream}?offset=-1")
        assert [item["n"] for item in json.loads(body)] == list(range(next_n + 2))
    finally:
        server.terminate()
        server.wait(timeout=10)

"""Live fan-out: 100 SSE readers of one stream each receive every append, in order."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from solidtype_jupyter.store.database import upgrade_schema

from .standalone import stream_server

READERS = 100
APPENDS = 40


class SSEReader:
    """Collects the JSON values of ``data`` events and the last ``control`` event."""

    def __init__(self) -> None:
        self.buffer = ""
        self.values: list[object] = []
        self.closed = False
        self.connected = asyncio.Event()

    def feed(self, chunk: bytes) -> None:
        self.connected.set()
        self.buffer += chunk.decode()
        while "\n\n" in self.buffer:
            block, self.buffer = self.buffer.split("\n\n", 1)
            lines = block.split("\n")
            kind = lines[0].removeprefix("event: ")
            data = "\n".join(line.removeprefix("data:") for line in lines[1:])
            if kind == "data":
                self.values.extend(json.loads(data))
            elif kind == "control" and json.loads(data).get("streamClosed"):
                self.closed = True


@pytest.mark.parametrize("event_loop", ["uvloop", "asyncio"])
async def test_hundred_sse_readers_receive_every_append_in_order(durable_url, tmp_path, event_loop):
    client = AsyncHTTPClient(force_instance=True, max_clients=READERS + 10)
    try:
        log = tmp_path / "server.log"
        with stream_server(durable_url, log, event_loop) as base:
            url = f"{base}/ai-chat/fanout"
            created = await client.fetch(
                url, method="PUT", body=b"[]", headers={"Content-Type": "application/json"}
            )
            assert created.code == 201
            readers = [SSEReader() for _ in range(READERS)]
            fetches = [
                asyncio.ensure_future(
                    client.fetch(
                        HTTPRequest(
                            f"{url}?offset=-1&live=sse",
                            streaming_callback=reader.feed,
                            request_timeout=60,
                        )
                    )
                )
                for reader in readers
            ]
            await asyncio.wait_for(
                asyncio.gather(*(reader.connected.wait() for reader in readers)), 30
            )
            for n in range(APPENDS):
                headers = {"Content-Type": "application/json"}
                if n == APPENDS - 1:
                    headers["Stream-Closed"] = "true"
                response = await client.fetch(
                    url, method="POST", body=json.dumps({"n": n}).encode(), headers=headers
                )
                assert response.code == 204
            # The final append closes the stream: every SSE response then ends by itself.
            await asyncio.wait_for(asyncio.gather(*fetches), 30)
            expected = [{"n": n} for n in range(APPENDS)]
            for reader in readers:
                assert reader.values == expected
                assert reader.closed
        assert f", {event_loop}) at http://" in log.read_text()  # the loop it said it runs
    finally:
        client.close()


async def test_a_recreated_stream_pushes_its_own_data_not_the_old_streams(sqlite_url, tmp_path):
    """Pushed SSE batches share one encoding per append. A stream deleted and created again
    has the same path and positions as before, so an encoding kept for the old stream's
    append must not be taken for the new one's."""
    upgrade_schema(sqlite_url)
    client = AsyncHTTPClient(force_instance=True)
    try:
        with stream_server(sqlite_url, tmp_path / "server.log", "asyncio") as base:
            url = f"{base}/ai-chat/again"
            json_headers = {"Content-Type": "application/json"}
            for value in ("old", "new"):  # the same length: the same positions
                await client.fetch(url, method="PUT", body=b"[]", headers=json_headers)
                reader = SSEReader()
                fetch = asyncio.ensure_future(
                    client.fetch(
                        HTTPRequest(
                            f"{url}?offset=now&live=sse",
                            streaming_callback=reader.feed,
                            request_timeout=30,
                        )
                    )
                )
                await asyncio.wait_for(reader.connected.wait(), 30)
                await asyncio.sleep(0.2)  # parked
                await client.fetch(
                    url,
                    method="POST",
                    body=json.dumps({"v": value}).encode(),
                    headers={**json_headers, "Stream-Closed": "true"},
                )
                await asyncio.wait_for(fetch, 30)
                assert reader.values == [{"v": value}]
                await client.fetch(url, method="DELETE")
    finally:
        client.close()

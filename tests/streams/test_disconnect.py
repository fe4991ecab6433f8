"""Live readers that go away release everything they held in the server."""

from __future__ import annotations

import asyncio

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from solidtype_jupyter.server.streams import standalone_app
from solidtype_jupyter.streams import open_engine


async def test_disconnected_sse_and_long_poll_readers_leave_nothing_behind():
    engine = open_engine("memory://", long_poll_timeout=30.0)
    await engine.start()
    sock, port = bind_unused_port()
    server = HTTPServer(standalone_app(engine))
    server.add_sockets([sock])
    client = AsyncHTTPClient(force_instance=True)
    base = f"http://127.0.0.1:{port}/v1/stream/gone"
    try:
        await client.fetch(base, method="PUT", body=b"x", headers={"Content-Type": "text/plain"})
        received: list[bytes] = []
        readers = [
            client.fetch(
                HTTPRequest(
                    f"{base}?offset=-1&live=sse",
                    streaming_callback=received.append,
                    request_timeout=0.5,
                )
            ),
            client.fetch(HTTPRequest(f"{base}?offset=now&live=long-poll", request_timeout=0.5)),
        ]
        await asyncio.sleep(0.3)
        assert engine.live.readers("gone") == 2  # one parked SSE reader, one long-poll
        results = await asyncio.gather(*readers, return_exceptions=True)
        assert all(isinstance(r, HTTPClientError) and r.code == 599 for r in results)
        assert b"event: data" in b"".join(received)
        for _ in range(50):  # the server notices the closed connections
            if engine.live.readers("gone") == 0:
                break
            await asyncio.sleep(0.02)
        assert engine.live.readers("gone") == 0
        # The stream still works for the next reader.
        await client.fetch(base, method="POST", body=b"y", headers={"Content-Type": "text/plain"})
        read = await client.fetch(f"{base}?offset=-1")
        assert read.body == b"xy"
    finally:
        client.close()
        server.stop()
        await engine.close()

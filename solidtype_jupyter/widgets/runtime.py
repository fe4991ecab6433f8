"""The chat machinery inside a notebook's kernel: one background thread with its own asyncio loop.

The kernel's own loop handles the messages of the notebook (cell execution, widget comms);
if the agent ran there, a cell waiting for an answer would keep the Stop button from being
heard. So the agent, the stream engine and the repositories live on a daemon thread
(``ChatRuntime``); the kernel thread hands work to it with ``call``/``submit``.

The pieces are the server's own: ``ChatService`` (turns, approvals, stop, history) on the
same database (``SolidTypeApp.database_url`` as the Jupyter config, ``SOLIDTYPE_DATABASE_URL``
or the embedded SQLite default give it), so a session started in a notebook is an ordinary
session: listed by the server's session API, readable from its stream.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..agent import AgentTurn, ChatService, InProcessAgent
from ..cad import CadDocument
from ..identity import local_user
from ..llm import LoopConfig, ModelAdapter, not_configured_run
from ..protocol import agui

T = TypeVar("T")


def notebook_user() -> str:
    """Whose sessions a kernel opens (a kernel has no browser identity of its own): the
    server's local user, the owner the server also gives its token logins (``identity``)."""
    return local_user()


@dataclass
class Binding:
    """What a session runs with in this kernel: its model and its document."""

    agent: InProcessAgent
    document: CadDocument | None
    model_label: str


class NotebookAgent:
    """The ``ChatAgent`` of the kernel's ``ChatService``: each session's own model and the
    notebook's in-memory document (not a file found through the catalog)."""

    def __init__(self) -> None:
        self.bindings: dict[str, Binding] = {}
        #: The loop settings of every session bound from now on (approval overrides from
        #: the Jupyter config, set by ``%ai_chat``).
        self.loop_config = LoopConfig()

    def bind(
        self,
        session_id: str,
        model: Callable[[], ModelAdapter],
        document: CadDocument | None,
        model_label: str,
        *,
        catalog: Any = None,
        root_dir: Path | None = None,
    ) -> None:
        agent = InProcessAgent(model, catalog=catalog, root_dir=root_dir, config=self.loop_config)
        self.bindings[session_id] = Binding(agent, document, model_label)

    def run(self, turn: AgentTurn) -> AsyncIterator[agui.AguiEvent]:
        binding = self.bindings.get(turn.thread_id)
        if binding is None:
            return not_configured_run(
                turn.thread_id,
                turn.run_id,
                "This session is not open in this kernel; open it with `%ai_chat --session "
                f"{turn.thread_id}`.",
            )
        turn.document = binding.document
        return binding.agent.run(turn)


class ChatRuntime:
    """Engine, repositories and ``ChatService`` on a background event loop."""

    def __init__(self, database_url: str, *, user_id: str | None = None) -> None:
        self.database_url = database_url
        self.user_id = user_id or notebook_user()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="solidtype-chat", daemon=True)
        self._thread.start()
        self.agent = NotebookAgent()
        self.engine: Any = None
        self.database: Any = None
        self.sessions: Any = None
        self.catalog: Any = None
        self.heartbeats: Any = None
        self.service: ChatService | None = None
        self.closed = False
        try:
            self.call(self._open())
        except BaseException:
            # e.g. a PostgreSQL schema that is behind: nothing may be left running.
            self.close()
            raise

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def _open(self) -> None:
        from ..store import (
            AgentHeartbeatRepository,
            CatalogRepository,
            ChatSessionRepository,
            ThreadedDatabase,
        )
        from ..store.database import ensure_schema
        from ..streams import open_engine

        # SQLite is upgraded in place; a PostgreSQL schema that is behind raises with the
        # command that fixes it (`solidtype-jupyter db upgrade`).
        await asyncio.to_thread(ensure_schema, self.database_url)
        self.engine = open_engine(self.database_url)
        await self.engine.start()
        self.database = ThreadedDatabase(self.database_url)
        self.sessions = ChatSessionRepository(self.database, delete_stream=self._delete_stream)
        self.catalog = CatalogRepository(self.database)
        self.heartbeats = AgentHeartbeatRepository(self.database)

        async def engine() -> Any:
            return self.engine

        self.service = ChatService(engine, self.sessions, self.agent, catalog=self.catalog)

    async def _delete_stream(self, path: str) -> None:
        await self.engine.delete(path, missing_ok=True)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the chat loop; the future is for the calling thread."""
        if self.closed:
            coro.close()
            raise RuntimeError("the chat runtime is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the chat loop and wait for its result (from the kernel thread)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("ChatRuntime.call from the chat loop would deadlock")
        return self.submit(coro).result(timeout)

    def close(self) -> None:
        if self.closed:
            return

        async def shutdown() -> None:
            if self.service is not None:
                await self.service.close()
            if self.engine is not None:
                await self.engine.close()
            if self.database is not None:
                await asyncio.to_thread(self.database.close)

        try:
            self.submit(shutdown()).result(timeout=30)
        finally:
            self.closed = True
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)


_runtimes: dict[str, ChatRuntime] = {}
_runtimes_lock = threading.Lock()


def shared_runtime(database_url: str) -> ChatRuntime:
    """The kernel's runtime for ``database_url`` (one per database, made on first use)."""
    with _runtimes_lock:
        runtime = _runtimes.get(database_url)
        if runtime is None or runtime.closed:
            if not _runtimes:
                # Stop the chat loop before the kernel tears down its sockets: a panel update
                # sent during interpreter shutdown makes ipykernel log a zmq traceback.
                atexit.register(close_runtimes)
            runtime = ChatRuntime(database_url)
            _runtimes[database_url] = runtime
        return runtime


def close_runtimes() -> None:
    with _runtimes_lock:
        runtimes = list(_runtimes.values())
        _runtimes.clear()
    for runtime in runtimes:
        runtime.close()

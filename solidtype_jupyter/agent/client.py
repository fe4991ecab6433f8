"""``AgentClient`` (the seed's AgentClient) and ``AgentRuntimes``, the live agents of a server.

``AgentRuntimes`` keeps at most one live agent per chat session: a second client of the same
session attaches to the running agent (the SharedWorker behaviour) instead of starting
another; a dead agent is forgotten, so the next spawn starts a fresh one. Kernel agents are
capped (``max_agents`` per server, the warm pool's kernels included, and
``max_agents_per_user``): a new one first stops the least recently used idle agent (of the
same user, for the per-user cap), and when none is idle it is refused with
``AgentLimitError``. An agent whose tool was stopped while still running is replaced.

``AgentClient`` drives one session's agent: ``spawn``, ``terminate``, ``send_message`` (a chat
turn as AG-UI events), ``execute_tool``, ``sync_document``, ``on(event type)``, ``state``,
``identity``.

``RuntimeChatAgent`` is the ``ChatAgent`` the chat service uses to run turns through agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from ..cad import CadDocument
from ..llm import history_to_agui
from ..protocol import agent as proto
from ..protocol import agui
from .core import decision_to_wire, tool_budget
from .in_process import AgentTurn
from .kernel_runtime import KernelRuntime
from .recovery import failed_tool_result
from .remote_runtime import RemoteRuntime
from .runtime import DEFAULT_INIT_TIMEOUT, AgentInitError, AgentLimitError, AgentRuntime
from .thread_runtime import ThreadRuntime

log = logging.getLogger(__name__)

#: Seconds a stopped run may take to end before its agent is taken as stuck and replaced.
CANCEL_GRACE = 2.0
#: Seconds past the tool time budget before an agent silent in a tool is replaced (its own
#: budget ends the call first when the agent still runs Python).
TOOL_GRACE = 5.0


class AgentRuntimes:
    """Factory and registry of agents. ``kernel_manager``: a jupyter_client multi-kernel
    manager (the server's); ``pool``: an optional ``KernelPool`` on it."""

    def __init__(
        self,
        *,
        kernel_manager: Any = None,
        pool: Any = None,
        default_runtime: proto.RuntimeKind = "kernel",
        init_timeout: float = DEFAULT_INIT_TIMEOUT,
        kernel_name: str | None = None,
        remote_url: str | None = None,
        remote_token: str | None = None,
        remote_headers: dict[str, str] | None = None,
        idle_timeout: float | None = None,
        max_agents: int | None = None,
        max_agents_per_user: int | None = None,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.max_agents = max_agents or None
        self.max_agents_per_user = max_agents_per_user or None
        self._owners: dict[str, str] = {}
        self._in_use: dict[str, int] = {}
        self._admission = asyncio.Lock()
        self._closing = False
        self._replacing: set[asyncio.Task[None]] = set()
        if pool is not None and self.max_agents is not None:
            pool.room = lambda: self._room()
        self._last_used: dict[str, float] = {}
        self._reaper: asyncio.Task[None] | None = None
        self.kernel_manager = kernel_manager
        self.remote_url = remote_url
        self.remote_token = remote_token
        self.remote_headers = dict(remote_headers or {})
        self.pool = pool
        self.default_runtime = default_runtime
        self.init_timeout = init_timeout
        self.kernel_name = kernel_name
        self._live: dict[str, AgentRuntime] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: Told of every agent's events, and of its end (``None``): presence listens here.
        self.observers: list[Callable[[str, AgentRuntime, Any], None]] = []
        #: Contents path of the document each session's agent edits (for presence).
        self.documents: dict[str, str] = {}

    def live(self, session_id: str) -> AgentRuntime | None:
        runtime = self._live.get(session_id)
        return runtime if runtime is not None and runtime.alive else None

    def _create(self, kind: proto.RuntimeKind, session_id: str) -> AgentRuntime:
        identity = proto.AgentIdentity.for_session(session_id, uuid.uuid4().hex, kind)
        if kind == "thread":
            return ThreadRuntime(identity)
        if kind == "kernel":
            if self.kernel_manager is None:
                raise AgentInitError("the kernel runtime needs a kernel manager")
            return KernelRuntime(
                identity, self.kernel_manager, pool=self.pool, kernel_name=self.kernel_name
            )
        if kind == "remote":
            if not self.remote_url:
                raise AgentInitError(
                    "the remote runtime needs the other server's URL "
                    "(SolidTypeApp.agent_remote_url)"
                )
            return RemoteRuntime(
                identity, self.remote_url, token=self.remote_token, headers=self.remote_headers
            )
        raise AgentInitError(f"unknown runtime {kind!r}")

    async def attach(
        self,
        config: proto.AgentConfig,
        kind: proto.RuntimeKind | None = None,
    ) -> AgentRuntime:
        """The session's live agent, or a new one started with ``config``."""
        session_id = config.session_id
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            self.touch(session_id)
            runtime = self.live(session_id)
            if runtime is not None:
                return runtime
            runtime = self._create(kind or self.default_runtime, session_id)
            config = config.model_copy(update={"identity": runtime.identity})
            if runtime.kind == "kernel":
                async with self._admission:  # one check-and-reserve at a time
                    await self._make_room(config.user_id)
                    self._live[session_id] = runtime
            else:
                self._live[session_id] = runtime
            self._owners[session_id] = config.user_id
            runtime.on_event(lambda event: self._on_agent_event(session_id, runtime, event))
            try:
                await runtime.initialize(config, init_timeout=self.init_timeout)
            except BaseException:
                self._live.pop(session_id, None)
                raise
            return runtime

    # --- the cap on kernel agents ---------------------------------------------------------

    def _kernel_agents(self) -> list[str]:
        return [s for s, r in self._live.items() if r.kind == "kernel" and r.alive]

    def _room(self) -> int:
        """Kernels that may still start under ``max_agents`` (the pool asks before each)."""
        if self.max_agents is None:
            return 1 << 30
        pooled = 0 if self.pool is None else self.pool.available + self.pool.starting
        return self.max_agents - len(self._kernel_agents()) - pooled

    def _idle_lru(self, sessions: list[str]) -> str | None:
        idle = [
            s for s in sessions if self._live[s].state.status == "ready" and not self._in_use.get(s)
        ]
        return min(idle, key=lambda s: self._last_used.get(s, 0.0)) if idle else None

    async def _make_room(self, user_id: str) -> None:
        """Stop least recently used idle agents until a new kernel agent of ``user_id`` fits;
        ``AgentLimitError`` when the agents in the way are all busy."""
        while True:
            agents = self._kernel_agents()
            mine = [s for s in agents if self._owners.get(s) == user_id]
            per_user = self.max_agents_per_user
            if per_user is not None and len(mine) >= per_user:
                victim = self._idle_lru(mine)
                if victim is None:
                    raise AgentLimitError(
                        f"your other {len(mine)} chats' agents are all busy answering, and a "
                        f"user may have {per_user} at once (SolidTypeApp.max_agents_per_user): "
                        "wait for one of those answers to finish, or stop it, then send again"
                    )
            elif self.max_agents is not None and (
                self._room() < (0 if self.pool is not None and self.pool.available else 1)
            ):
                victim = self._idle_lru(agents)
                if victim is None:
                    raise AgentLimitError(
                        f"all {len(agents)} agents this server may run are busy answering "
                        f"(SolidTypeApp.max_agents = {self.max_agents}, the warm pool "
                        "included): wait for a running answer to finish, or stop one, then "
                        "send again; an administrator can raise max_agents"
                    )
            else:
                return
            log.info("solidtype agents: stopping idle agent of session %s to make room", victim)
            await self.terminate(victim)

    @contextlib.contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        """The session's agent is working for a client: never stopped as idle meanwhile."""
        self._in_use[session_id] = self._in_use.get(session_id, 0) + 1
        try:
            yield
        finally:
            left = self._in_use.get(session_id, 1) - 1
            if left > 0:
                self._in_use[session_id] = left
            else:
                self._in_use.pop(session_id, None)

    # --- replacing stuck agents -----------------------------------------------------------

    def _on_agent_event(self, session_id: str, runtime: AgentRuntime, event: Any) -> None:
        if isinstance(event, proto.ErrorEvent) and event.code == proto.TOOL_ABANDONED:
            task = asyncio.ensure_future(self.replace(session_id, runtime, now=False))
            self._replacing.add(task)
            task.add_done_callback(self._replacing.discard)
        self._notify(session_id, runtime, event)

    async def replace(self, session_id: str, runtime: AgentRuntime, *, now: bool) -> None:
        """Retire ``runtime`` (the next message of the session starts a fresh agent on the
        saved document): ``now``, an agent that does not answer is stopped at once (its
        kernel shut down); else once its run has ended."""
        if self._live.get(session_id) is runtime:
            del self._live[session_id]
            self._last_used.pop(session_id, None)
        try:
            if now:
                await runtime.abandon()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(runtime.wait_status("ready", "error", "terminated"), 30)
                await runtime.terminate()
        except Exception:
            log.exception("solidtype agents: replacing the agent of %s failed", session_id)
        self._notify(session_id, runtime, None)
        self._refill()

    def _refill(self) -> None:
        # Not while a spawn makes room: a kernel the pool started then would take the room
        # an idle agent was just stopped for (the spawn refills the pool when it is done).
        if self.pool is not None and not self._closing and not self._admission.locked():
            self.pool.fill()

    def touch(self, session_id: str) -> None:
        """The session's agent was just used (idle agents are stopped after
        ``idle_timeout`` seconds; the next message starts a new one)."""
        self._last_used[session_id] = asyncio.get_running_loop().time()
        if self.idle_timeout is not None and self._reaper is None:
            self._reaper = asyncio.ensure_future(self._reap())

    async def _reap(self) -> None:
        assert self.idle_timeout is not None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(30.0, self.idle_timeout / 2))
            now = loop.time()
            for session_id, runtime in list(self._live.items()):
                idle = now - self._last_used.get(session_id, now)
                if runtime.state.status != "busy" and idle > self.idle_timeout:
                    with contextlib.suppress(Exception):
                        await self.terminate(session_id)

    def _notify(self, session_id: str, runtime: AgentRuntime, event: Any) -> None:
        for observer in list(self.observers):
            try:
                observer(session_id, runtime, event)
            except Exception:
                log.exception("solidtype agents: an observer failed")

    async def terminate(self, session_id: str) -> None:
        self._last_used.pop(session_id, None)
        runtime = self._live.pop(session_id, None)
        if runtime is not None:
            await runtime.terminate()
            self._notify(session_id, runtime, None)
            self._refill()

    async def close(self) -> None:
        self._closing = True
        for task in list(self._replacing):
            with contextlib.suppress(BaseException):
                await task
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(BaseException):
                await self._reaper
            self._reaper = None
        for session_id in list(self._live):
            with contextlib.suppress(Exception):
                await self.terminate(session_id)
        if self.pool is not None:
            await self.pool.close()


class AgentClient:
    """One chat session's agent, seen from the server.

    ``document`` (with ``document_path``, where it is saved after each agent change) is
    the owner's copy of the session's CAD document: it is synced to the agent before each
    turn and receives the agent's ``document-update`` events.
    """

    def __init__(
        self,
        runtimes: AgentRuntimes,
        session_id: str,
        *,
        user_id: str,
        context: str = "editor",
        model: str = "",
        root_dir: Path | None = None,
        runtime: proto.RuntimeKind | None = None,
        document: CadDocument | None = None,
        document_path: Path | None = None,
        tool_modules: list[str] | None = None,
        approval_overrides: dict[str, str] | None = None,
        tool_timeout: float | None = None,
    ) -> None:
        self.runtimes = runtimes
        self.session_id = session_id
        # Seconds per tool call: None, the loop's default; 0, no limit.
        self.tool_timeout = tool_timeout
        self.user_id = user_id
        self.context = context
        self.model = model
        self.root_dir = root_dir
        self.kind = runtime
        self.document = document
        self.document_path = document_path
        self.tool_modules = list(tool_modules or [])
        self.approval_overrides = dict(approval_overrides or {})
        self.runtime: AgentRuntime | None = None
        self._handlers: dict[str, list[Callable[[Any], None]]] = {}
        self._unsubscribe: Callable[[], None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def identity(self) -> proto.AgentIdentity | None:
        return self.runtime.identity if self.runtime is not None else None

    @property
    def state(self) -> proto.AgentState:
        return self.runtime.state if self.runtime is not None else proto.AgentState()

    def _config(self) -> proto.AgentConfig:
        return proto.AgentConfig(
            identity=proto.AgentIdentity.for_session(
                self.session_id, "pending", self.kind or self.runtimes.default_runtime
            ),
            session_id=self.session_id,
            user_id=self.user_id,
            context="dashboard" if self.context == "dashboard" else "editor",
            model=self.model,
            root_dir=str(self.root_dir) if self.root_dir else None,
            tool_modules=self.tool_modules,
            approval_overrides=self.approval_overrides,  # type: ignore[arg-type]
            tool_timeout=self.tool_timeout,
        )

    async def spawn(self) -> proto.AgentIdentity:
        """Attach to the session's live agent or start one (again, after a failure)."""
        if self.runtime is not None and self.runtime.alive:
            return self.runtime.identity
        self._detach()
        runtime = await self.runtimes.attach(self._config(), self.kind)
        self.runtime = runtime
        self._unsubscribe = runtime.on_event(self._on_event)
        return runtime.identity

    def _detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.runtime = None

    async def terminate(self) -> None:
        """Stop the session's agent (for every client attached to it)."""
        await self.runtimes.terminate(self.session_id)
        self._detach()

    def close(self) -> None:
        """Stop listening; the agent keeps running for other clients."""
        self._detach()

    def on(self, event_type: str, handler: Callable[[Any], None]) -> Callable[[], None]:
        handlers = self._handlers.setdefault(event_type, [])
        handlers.append(handler)

        def unsubscribe() -> None:
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def _on_event(self, event: Any) -> None:
        if isinstance(event, proto.DocumentUpdateEvent) and self.document is not None:
            # On the event loop: merge only; a rebuild (CadQuery, seconds for a big model)
            # would stall the server. Whoever needs the solid rebuilds it, in a thread.
            self.document.apply_update(event.updates, rebuild=False)
            if self.document_path is not None:
                self.document.save(self.document_path)
        for handler in list(self._handlers.get(event.type, ())):
            try:
                handler(event)
            except Exception:
                log.exception("solidtype agent client: handler for %s failed", event.type)

    async def _running(self) -> AgentRuntime:
        fresh = self.runtime is None or not self.runtime.alive
        await self.spawn()
        assert self.runtime is not None
        if fresh and self.document is not None:
            await self.sync_document(self.document)
        return self.runtime

    # --- commands -------------------------------------------------------------------------

    async def sync_document(self, document: CadDocument, *, reset: bool = True) -> None:
        """Give the agent ``document``'s full state (``reset``: replace its replica)."""
        self.document = document
        runtime = self.runtime
        if runtime is None or not runtime.alive:
            return  # synced by spawn
        await runtime.send_command(
            proto.SyncDocumentCommand(updates=document.get_update(), reset=reset)
        )

    async def execute_tool(
        self, name: str, args: dict[str, Any], *, limit: float = 300.0
    ) -> proto.ToolResultEvent:
        """Run one tool in the agent; its result (``error`` set when it failed)."""
        runtime = await self._running()
        call_id = f"tool_{uuid.uuid4().hex}"
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def watch(event: Any) -> None:
            if done.done():
                return
            if isinstance(event, proto.ToolResultEvent) and event.id == call_id:
                done.set_result(event)
            elif isinstance(event, proto.ErrorEvent) and event.fatal:
                done.set_result(proto.ToolResultEvent(id=call_id, error=event.message))

        unsubscribe = runtime.on_event(watch)
        self.runtimes.touch(self.session_id)
        try:
            with self.runtimes.hold(self.session_id):
                await runtime.send_command(
                    proto.ExecuteToolCommand(id=call_id, tool_name=name, args=args)
                )
                result: proto.ToolResultEvent = await asyncio.wait_for(done, limit)
            return result
        finally:
            unsubscribe()

    async def send_message(self, turn: AgentTurn) -> AsyncIterator[agui.AguiEvent]:
        """Run ``turn`` in the agent: its AG-UI events, ending with RUN_FINISHED or
        RUN_ERROR (also when the agent dies or cannot start)."""
        if turn.document is not None:
            self.document = turn.document
        if turn.document_path is not None:
            self.runtimes.documents[self.session_id] = turn.document_path
        try:
            runtime = await self._running()
            if turn.document is not None:  # the owner's copy is the truth at every turn
                await self.sync_document(turn.document)
        except (AgentInitError, RuntimeError) as exc:
            yield agui.RunStarted(run_id=turn.run_id, thread_id=turn.thread_id)
            yield agui.RunError(message=str(exc), code=getattr(exc, "code", "agent_unavailable"))
            return
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def watch(event: Any) -> None:
            ours = isinstance(event, proto.ChatResponseEvent) and event.run_id == turn.run_id
            if ours or (isinstance(event, proto.ErrorEvent) and event.fatal):
                queue.put_nowait(event)

        unsubscribe = runtime.on_event(watch)
        self.runtimes.touch(self.session_id)
        started = False
        clock = asyncio.get_running_loop()
        budget = tool_budget(self.tool_timeout)
        open_calls: dict[str, tuple[str, str]] = {}  # tool call id -> (name, message id)
        heard = clock.time()  # when the agent last said something about this run
        cancel_sent: float | None = None
        hold = self.runtimes.hold(self.session_id)
        hold.__enter__()
        try:
            await runtime.send_command(
                proto.ChatCommand(
                    run_id=turn.run_id,
                    thread_id=turn.thread_id,
                    user_id=turn.user_id,
                    history=[m.to_wire() for m in history_to_agui(turn.history)],
                    decisions=[decision_to_wire(d) for d in turn.decisions],
                    stored_results=[
                        proto.WireStoredResult(
                            name=s.name,
                            arguments=s.arguments,
                            content=s.content,
                            is_error=s.is_error,
                        )
                        for s in turn.stored_results
                    ],
                    tool_rounds=turn.tool_rounds,
                    selection=list(turn.selection),
                )
            )
            while True:
                if turn.cancel.cancelled and cancel_sent is None and runtime.alive:
                    cancel_sent = clock.time()
                    await runtime.send_command(proto.CancelCommand(run_id=turn.run_id))
                # An agent stuck in a tool (blocking C code) hears neither the cancel nor its
                # own time budget: stop waiting for it and replace it.
                stuck = (cancel_sent is not None and clock.time() - cancel_sent > CANCEL_GRACE) or (
                    budget is not None and open_calls and clock.time() - heard > budget + TOOL_GRACE
                )
                if stuck:
                    await self.runtimes.replace(self.session_id, runtime, now=True)
                    if not started:
                        yield agui.RunStarted(run_id=turn.run_id, thread_id=turn.thread_id)
                    for event in _given_up(turn, open_calls, budget):
                        yield event
                    return
                try:
                    item = await asyncio.wait_for(queue.get(), 0.2)
                except TimeoutError:
                    continue
                heard = clock.time()
                if isinstance(item, proto.ErrorEvent):
                    if not started:
                        yield agui.RunStarted(run_id=turn.run_id, thread_id=turn.thread_id)
                    yield agui.RunError(message=item.message, code=item.code)
                    return
                event = agui.parse_event(item.event)
                started = started or isinstance(event, agui.RunStarted)
                if isinstance(event, agui.ToolCallStart):
                    open_calls[event.tool_call_id] = (
                        event.tool_call_name,
                        event.parent_message_id or "",
                    )
                elif isinstance(event, agui.ToolCallResult):
                    open_calls.pop(event.tool_call_id, None)
                yield event
                if item.done:
                    self.runtimes.touch(self.session_id)
                    return
        finally:
            hold.__exit__(None, None, None)
            unsubscribe()


def _given_up(
    turn: AgentTurn, open_calls: dict[str, tuple[str, str]], budget: float | None
) -> list[agui.AguiEvent]:
    """How a run ends whose agent was replaced because it did not answer: a result for each
    open tool call, then a cancelled ``RUN_FINISHED`` (a stop) or a ``RUN_ERROR``."""
    stopped = turn.cancel.cancelled
    names = ", ".join(sorted({name for name, _ in open_calls.values()})) or "a tool"
    if stopped:
        text = "stopped by the user while running; the agent was restarted"
    else:
        text = (
            f"tool {names} took longer than {budget:g} s and was stopped (the agent did not "
            "answer and was restarted on the saved document)"
        )
    events: list[agui.AguiEvent] = [
        failed_tool_result(message_id, call_id, text)
        for call_id, (_, message_id) in open_calls.items()
    ]
    if stopped:
        events.append(
            agui.RunFinished(
                run_id=turn.run_id,
                thread_id=turn.thread_id,
                metadata={
                    **agui.tanstack_metadata(finishReason="stop"),
                    "solidtype": {"reason": "cancelled"},
                },
            )
        )
    else:
        events.append(
            agui.RunError(
                message=f"{text}. Send your message again, asking for a simpler or smaller "
                "step; the limit is the server's tool_timeout setting",
                code="tool_timeout",
            )
        )
    return events


class RuntimeChatAgent:
    """The chat service's ``ChatAgent`` on agent runtimes: one ``AgentClient`` per session
    (its agent shared with every other client of the session).

    Editor sessions run in agents; other contexts go to ``fallback`` (the dashboard's tools
    work on the server's catalog, which agents do not hold)."""

    def __init__(
        self,
        runtimes: AgentRuntimes,
        *,
        model: Callable[[], str],
        root_dir: Path | None = None,
        runtime: proto.RuntimeKind | None = None,
        fallback: Any = None,
        tool_modules: list[str] | None = None,
        approval_overrides: dict[str, str] | None = None,
        tool_timeout: float | None = None,
    ) -> None:
        self.runtimes = runtimes
        self.tool_timeout = tool_timeout
        self.tool_modules = list(tool_modules or [])
        self.approval_overrides = dict(approval_overrides or {})
        self.model = model
        self.root_dir = root_dir
        self.runtime = runtime
        self.fallback = fallback
        self._clients: dict[str, AgentClient] = {}

    def client(self, turn: AgentTurn) -> AgentClient:
        client = self._clients.get(turn.thread_id)
        if client is None:
            client = AgentClient(
                self.runtimes,
                turn.thread_id,
                user_id=turn.user_id,
                context=turn.context,
                model=self.model(),
                root_dir=self.root_dir,
                runtime=self.runtime,
                tool_modules=self.tool_modules,
                approval_overrides=self.approval_overrides,
                tool_timeout=self.tool_timeout,
            )
            self._clients[turn.thread_id] = client
        return client

    def must_start(self, session_id: str, context: str) -> bool:
        """Whether a turn of this session starts its agent first (none is running)."""
        if context != "editor" and self.fallback is not None:
            return False
        return self.runtimes.live(session_id) is None

    def run(self, turn: AgentTurn) -> AsyncIterator[agui.AguiEvent]:
        if turn.context != "editor" and self.fallback is not None:
            result: AsyncIterator[agui.AguiEvent] = self.fallback.run(turn)
            return result
        return self.client(turn).send_message(turn)

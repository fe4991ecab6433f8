"""``KernelRuntime``: the agent in its own Jupyter kernel, started by a kernel manager.

The kernel comes from the server's multi-kernel manager (``serverapp.kernel_manager``), so a
server configured with a kernel gateway runs agents on the gateway's cluster unchanged; or
from a ``KernelPool`` of kernels started ahead with CadQuery imported. The server executes
``kernel_side.register()`` in the kernel, opens a comm on ``solidtype.agent`` whose open
message is the ``init`` command, and from then on commands are comm messages on the shell
channel and events are comm messages on IOPub (JSON data, Yjs updates as binary buffers).

A kernel that dies (an OCCT crash) turns the runtime to ``error`` with a fatal error event;
the kernel's automatic restart is switched off for agent kernels, since a restarted kernel
has lost the agent (the client spawns a new one instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from ..protocol import agent as proto
from .kernel_side import COMM_TARGET
from .runtime import DEFAULT_INIT_TIMEOUT, AgentInitError, AgentRuntime

log = logging.getLogger(__name__)

REGISTER_CODE = (
    "import solidtype_jupyter.agent.kernel_side as _solidtype_agent\n_solidtype_agent.register()\n"
)
#: What a pooled kernel runs ahead of time: the slow imports, then the comm target.
PRELOAD_CODE = "import cadquery\nimport solidtype_jupyter.agent.core\n" + REGISTER_CODE

ALIVE_POLL = 0.5


async def run_code(client: Any, code: str, limit: float) -> None:
    """Execute ``code`` silently; ``RuntimeError`` with the kernel's traceback on failure."""
    reply = await client.execute_interactive(
        code,
        silent=True,
        store_history=False,
        timeout=limit,
        output_hook=lambda _msg: None,
    )
    content = reply.get("content", {})
    if content.get("status") != "ok":
        raise RuntimeError(
            f"{content.get('ename', 'error')}: {content.get('evalue', '')}".strip(": ")
        )


async def start_agent_kernel(
    kernel_manager: Any, *, code: str, limit: float, kernel_name: str | None = None
) -> str:
    """A new kernel with ``code`` executed in it; its id. Stopped again on failure."""
    kwargs: dict[str, Any] = {}
    if kernel_name:
        kwargs["kernel_name"] = kernel_name
    kernel_id: str = await kernel_manager.start_kernel(**kwargs)
    try:
        manager = kernel_manager.get_kernel(kernel_id)
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=limit)
            await run_code(client, code, limit)
        finally:
            client.stop_channels()
    except BaseException:
        with contextlib.suppress(Exception):
            await kernel_manager.shutdown_kernel(kernel_id, now=True)
        raise
    return kernel_id


class KernelRuntime(AgentRuntime):
    kind = "kernel"

    def __init__(
        self,
        identity: proto.AgentIdentity,
        kernel_manager: Any,
        *,
        pool: Any = None,
        kernel_name: str | None = None,
    ) -> None:
        super().__init__(identity)
        self.kernel_manager = kernel_manager
        self.pool = pool
        self.kernel_name = kernel_name
        self.kernel_id: str | None = None
        self.comm_id = uuid.uuid4().hex
        self._client: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._discarding: asyncio.Future[None] | None = None

    async def initialize(
        self, config: proto.AgentConfig, *, init_timeout: float = DEFAULT_INIT_TIMEOUT
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + init_timeout
        try:
            await asyncio.wait_for(self._start_kernel(init_timeout), init_timeout)
            header, buffers = proto.encode(proto.InitCommand(config=config))
            self._send("comm_open", {"target_name": COMM_TARGET, "data": header}, buffers)
            await self.wait_ready(max(0.0, deadline - loop.time()), configured=init_timeout)
        except TimeoutError:
            await self._discard_kernel()
            message = (
                f"the kernel agent did not become ready within {init_timeout:g} s (starting its "
                "kernel); raise SolidTypeApp.agent_init_timeout if starting takes longer here"
            )
            self.fail(message, "init_timeout")
            raise AgentInitError(message) from None
        except AgentInitError as exc:
            await self._discard_kernel()
            self.fail(str(exc), "init_failed")
            raise
        except Exception as exc:
            await self._discard_kernel()
            message = f"the kernel agent failed to start: {exc}"
            self.fail(message, "init_failed")
            raise AgentInitError(message) from exc

    async def _start_kernel(self, limit: float) -> None:
        if self.pool is not None:
            self.kernel_id = await self.pool.take()
        else:
            self.kernel_id = await start_agent_kernel(
                self.kernel_manager,
                code=REGISTER_CODE,
                limit=limit,
                kernel_name=self.kernel_name,
            )
        manager = self.kernel_manager.get_kernel(self.kernel_id)
        with contextlib.suppress(Exception):
            manager.stop_restarter()  # a restarted kernel has lost its agent
        self._client = manager.client()
        self._client.start_channels()
        await self._client.wait_for_ready(timeout=limit)
        self._tasks = [
            asyncio.ensure_future(self._read_events()),
            asyncio.ensure_future(self._watch_kernel()),
        ]

    def _send(self, msg_type: str, content: dict[str, Any], buffers: list[bytes]) -> None:
        if self._client is None:
            raise RuntimeError("the kernel agent is not running")
        msg = self._client.session.msg(msg_type, {"comm_id": self.comm_id, **content})
        msg["buffers"] = buffers
        self._client.shell_channel.send(msg)

    async def send_command(self, command: Any) -> None:
        header, buffers = proto.encode(command)
        await self.send_raw(header, buffers)

    async def send_raw(self, header: Any, buffers: list[bytes]) -> None:
        """A command in wire form as is (also malformed ones: the agent answers those)."""
        if not self.alive:
            raise RuntimeError(f"the kernel agent is {self.state.status}")
        self._send("comm_msg", {"data": header}, buffers)

    async def _read_events(self) -> None:
        client = self._client
        while True:
            try:
                msg = await client.get_iopub_msg()
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._stopping or not self.alive:
                    return
                await asyncio.sleep(0.05)
                continue
            if msg.get("msg_type") != "comm_msg":
                continue
            content = msg.get("content", {})
            if content.get("comm_id") != self.comm_id:
                continue
            try:
                event = proto.decode_event(content.get("data"), msg.get("buffers") or [])
            except proto.ProtocolError as exc:
                log.warning("solidtype agent %s: %s", self.identity.id, exc)
                continue
            self.dispatch(event)

    async def _watch_kernel(self) -> None:
        manager = self.kernel_manager.get_kernel(self.kernel_id)
        while not self._stopping:
            await asyncio.sleep(ALIVE_POLL)
            if self._stopping:
                return
            try:
                alive = await manager.is_alive()
            except Exception:
                alive = False
            if not alive:
                code = _exit_code(manager)
                self.fail(
                    "the agent's kernel died"
                    + (f" (exit code {code})" if code is not None else "")
                    + "; the next message starts a new agent",
                    "agent_died",
                )
                await self._discard_kernel()
                return

    async def terminate(self) -> None:
        if self._client is not None and self.alive:
            with contextlib.suppress(Exception):
                await self.send_command(proto.TerminateCommand())
                await asyncio.wait_for(self.wait_status("terminated"), 5)
        await self._discard_kernel()
        if self.state.status != "terminated":
            self.dispatch(proto.StateChangeEvent(state=proto.AgentState(status="terminated")))

    async def abandon(self) -> None:
        """Shut the kernel down at once: its agent is stuck (a tool in blocking C code, which
        neither a cancel nor a kernel interrupt can stop; ipykernel even ignores SIGINT
        outside an execute request, and the agent runs outside one)."""
        await self._discard_kernel()
        if self.state.status != "terminated":
            self.dispatch(proto.StateChangeEvent(state=proto.AgentState(status="terminated")))

    async def _discard_kernel(self) -> None:
        """Stop reading and shut the kernel down, once (concurrent callers wait for it)."""
        if self._discarding is None:
            self._discarding = asyncio.ensure_future(self._shut_down())
        await asyncio.shield(self._discarding)

    async def _shut_down(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.stop_channels()
            self._client = None
        if self.kernel_id is not None:
            kernel_id, self.kernel_id = self.kernel_id, None
            with contextlib.suppress(Exception):
                await self.kernel_manager.shutdown_kernel(kernel_id, now=True)


def _exit_code(manager: Any) -> int | None:
    provisioner = getattr(manager, "provisioner", None)
    process = getattr(provisioner, "process", None)
    code = getattr(process, "returncode", None)
    return code if isinstance(code, int) else None

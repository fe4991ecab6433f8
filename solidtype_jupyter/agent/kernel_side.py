"""The agent's side of the kernel runtime, run inside a Jupyter kernel.

``register()`` (executed in the kernel by the server) registers the comm target
``solidtype.agent``. The server opens a comm on it with the ``init`` command as the open
message's data; every later command is a comm message (JSON data + binary buffers for Yjs
updates), and every event goes back as a comm message on IOPub. The agent runs as tasks on
the kernel's event loop, so the shell stays free for the next command (cancel, sync).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..protocol import agent as proto
from .core import AgentCore

COMM_TARGET = "solidtype.agent"

log = logging.getLogger(__name__)

_hosts: list[KernelAgentHost] = []


class KernelAgentHost:
    """One comm, one agent."""

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.core = AgentCore(self._send, on_terminate=self._closed)
        self._tasks: set[asyncio.Task[None]] = set()
        comm.on_msg(self.on_msg)

    def _send(self, event: Any) -> None:
        header, buffers = proto.encode(event)
        self.comm.send(data=header, buffers=buffers)

    def on_msg(self, msg: dict[str, Any]) -> None:
        data = msg.get("content", {}).get("data")
        buffers = msg.get("buffers") or []
        task = asyncio.ensure_future(self.core.handle(data, buffers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _closed(self) -> None:
        if self in _hosts:
            _hosts.remove(self)


def _open(comm: Any, msg: dict[str, Any]) -> None:
    host = KernelAgentHost(comm)
    _hosts.append(host)
    host.on_msg(msg)


def register() -> None:
    """Register the comm target in the running kernel (idempotent)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        raise RuntimeError("solidtype agent: register() must run inside a Jupyter kernel")
    shell.kernel.comm_manager.register_target(COMM_TARGET, _open)

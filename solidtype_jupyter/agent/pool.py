"""``KernelPool``: agent kernels started ahead, with CadQuery imported and the comm target
registered, so spawning an agent is opening a comm rather than starting Python and OCCT.

``take()`` hands out a ready kernel (starting one on the spot when the pool is empty) and
refills the pool in the background; ``close()`` shuts down the kernels still waiting.
``room``, when set, says how many more kernels the pool may start (``AgentRuntimes`` counts
the pool's kernels against ``max_agents``): the pool then stays below ``size``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from .kernel_runtime import PRELOAD_CODE, start_agent_kernel

log = logging.getLogger(__name__)


class KernelPool:
    def __init__(
        self,
        kernel_manager: Any,
        size: int,
        *,
        kernel_name: str | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        if size < 0:
            raise ValueError("a kernel pool size cannot be negative")
        self.kernel_manager = kernel_manager
        self.size = size
        self.kernel_name = kernel_name
        self.start_timeout = start_timeout
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._starting = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.room: Callable[[], int] | None = None

    @property
    def available(self) -> int:
        return self._ready.qsize()

    @property
    def starting(self) -> int:
        return self._starting

    def fill(self) -> None:
        """Start kernels until ``size`` are ready or starting."""
        while (
            not self._closed
            and self._ready.qsize() + self._starting < self.size
            and (self.room is None or self.room() > 0)
        ):
            self._starting += 1
            task = asyncio.ensure_future(self._start_one())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_one(self) -> None:
        try:
            kernel_id = await start_agent_kernel(
                self.kernel_manager,
                code=PRELOAD_CODE,
                limit=self.start_timeout,
                kernel_name=self.kernel_name,
            )
        except Exception:
            log.exception("solidtype: a pooled agent kernel failed to start")
            return
        finally:
            self._starting -= 1
        if self._closed:
            with contextlib.suppress(Exception):
                await self.kernel_manager.shutdown_kernel(kernel_id, now=True)
            return
        await self._ready.put(kernel_id)

    async def wait_filled(self, limit: float = 120.0) -> None:
        """Until ``size`` kernels are ready (tests, benchmarks, warm start-up)."""
        self.fill()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while self._ready.qsize() < self.size:
            if loop.time() > deadline:
                raise TimeoutError(f"the kernel pool did not fill within {limit:g} s")
            await asyncio.sleep(0.05)

    async def take(self) -> str:
        """A ready kernel id: a pooled one, else a kernel started now."""
        try:
            kernel_id = self._ready.get_nowait()
        except asyncio.QueueEmpty:
            kernel_id = None
        if kernel_id is not None:
            self.fill()
            return kernel_id
        # Empty (the first spawn): start this one first, then fill, so the two do not share
        # the CPU while someone waits.
        try:
            return await start_agent_kernel(
                self.kernel_manager,
                code=PRELOAD_CODE,
                limit=self.start_timeout,
                kernel_name=self.kernel_name,
            )
        finally:
            self.fill()

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        while not self._ready.empty():
            kernel_id = self._ready.get_nowait()
            with contextlib.suppress(Exception):
                await self.kernel_manager.shutdown_kernel(kernel_id, now=True)

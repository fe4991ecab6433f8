"""Agent kernels are capped per server (``max_agents``) and per user
(``max_agents_per_user``): a new agent stops the least recently used idle one, and when
the agents in the way are all busy the turn ends with a RUN_ERROR saying what to do. On a
real jupyter_server with three users and real agent kernels."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from chat.conftest import ALICE, BOB, ChatClient, extension, write_script

from solidtype_jupyter.agent.client import AgentClient, AgentRuntimes
from solidtype_jupyter.agent.pool import KernelPool

from .conftest import KERNEL_AGENTS, server_config

CAROL = "carol"
SLOW = {"tool_calls": [{"name": "slow_tool", "arguments": {"seconds": 300}}]}
QUICK = {"tool_calls": [{"name": "list_features", "arguments": {}}]}


@pytest.fixture
def jp_server_config(sqlite_url: str, script_path: Path) -> dict[str, Any]:
    return server_config(
        sqlite_url,
        f"scripted:{script_path}",
        **KERNEL_AGENTS,
        agent_tool_modules=["tests.agent.slow_tools"],
        tool_timeout=600,
        max_agents=2,
        max_agents_per_user=1,
    )


async def _until(predicate: Any, limit: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_agent_kernels_are_capped_per_server_and_per_user(
    jp_fetch, jp_serverapp, script_path: Path
):
    chat = ChatClient(jp_fetch)
    ext = extension(jp_serverapp)
    agents = ext.agents
    km = jp_serverapp.kernel_manager

    async def editor_session(user: str, name: str) -> str:
        document = await ext.catalog.register_document(user, f"{user}-{name}.solid.json")
        return await chat.session(user, "editor", documentId=str(document.id))

    a1, a2, a3 = [await editor_session(ALICE, n) for n in ("one", "two", "three")]
    b1, b2 = [await editor_session(BOB, n) for n in ("one", "two")]
    c1 = await editor_session(CAROL, "one")

    def kernel(session_id: str) -> str:
        return agents.live(session_id).kernel_id

    def busy(session_id: str) -> bool:
        runtime = agents.live(session_id)
        return runtime is not None and "slow_tool" in (runtime.state.current_task or "")

    async def quick(user: str, session_id: str) -> list[dict[str, Any]]:
        write_script(script_path, QUICK, {"text": "Done."})
        code, frames = await chat.turn(user, session_id, "quick")
        assert code == 200
        return [event for _, event in frames]

    async def slow(user: str, session_id: str) -> asyncio.Future[Any]:
        write_script(script_path, SLOW, {"text": "Slept."})
        turn = asyncio.ensure_future(chat.turn(user, session_id, "slow"))
        await _until(lambda: busy(session_id) or turn.done())
        assert not turn.done(), turn.result()
        return turn

    running: list[asyncio.Future[Any]] = []
    try:
        # alice's first agent, idle after its turn.
        assert (await quick(ALICE, a1))[-1]["type"] == "RUN_FINISHED"
        k1 = kernel(a1)
        # A second agent of alice's stops her idle one first (per-user cap 1).
        running.append(await slow(ALICE, a2))
        assert agents.live(a1) is None and k1 not in km.list_kernel_ids()
        # A third while that one is busy: refused with what to do; no kernel started.
        events = await quick(ALICE, a3)
        assert events[-1]["type"] == "RUN_ERROR", events
        assert events[-1]["code"] == "agent_limit"
        assert "max_agents_per_user" in events[-1]["message"]
        assert "wait for one of those answers to finish, or stop it" in events[-1]["message"]
        assert sorted(km.list_kernel_ids()) == [kernel(a2)]

        # bob's agent fits (2 of 2) and is idle after its turn; carol's stops it, the least
        # recently used idle agent of the server (alice's is busy).
        assert (await quick(BOB, b1))[-1]["type"] == "RUN_FINISHED"
        kb = kernel(b1)
        assert len(km.list_kernel_ids()) == 2
        running.append(await slow(CAROL, c1))
        assert agents.live(b1) is None and kb not in km.list_kernel_ids()
        assert sorted(km.list_kernel_ids()) == sorted([kernel(a2), kernel(c1)])

        # Every agent of the server busy: bob is refused, with what to do.
        events = await quick(BOB, b2)
        assert events[-1]["type"] == "RUN_ERROR" and events[-1]["code"] == "agent_limit"
        assert "SolidTypeApp.max_agents = 2" in events[-1]["message"], events[-1]
        assert "wait for a running answer to finish, or stop one" in events[-1]["message"]
        assert len(km.list_kernel_ids()) == 2
        # The refusals are stored in the sessions' streams like any run's end.
        code, _, hydrated = await chat.call(BOB, "GET", "session", b2)
        assert code == 200 and hydrated["activeRun"] is None
    finally:
        # Stop the slow runs (their requests may have timed out on the client's side, the
        # runs go on in the server) and wait until they are over.
        for user, session_id in ((ALICE, a2), (CAROL, c1)):
            await chat.call(user, "POST", "session", session_id, "cancel")
            for _ in range(300):
                _, _, hydrated = await chat.call(user, "GET", "session", session_id)
                if hydrated["activeRun"] is None:
                    break
                await asyncio.sleep(0.1)
        for turn in running:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(turn, 10)
        await agents.close()
    assert km.list_kernel_ids() == []


async def test_the_warm_pool_counts_against_max_agents(jp_serverapp):
    km = jp_serverapp.kernel_manager
    pool = KernelPool(km, 1)
    runtimes = AgentRuntimes(kernel_manager=km, pool=pool, init_timeout=120, max_agents=2)
    clients = [AgentClient(runtimes, f"session-{user}", user_id=user) for user in (ALICE, BOB)]
    try:
        await clients[0].spawn()  # the pool was empty: a kernel of its own, then the pool fills
        await pool.wait_filled()
        assert len(km.list_kernel_ids()) == 2
        await clients[1].spawn()  # takes the pooled kernel, which is not replaced (2 of 2)
        await asyncio.sleep(0.5)
        assert len(km.list_kernel_ids()) == 2 and pool.available + pool.starting == 0

        # A third agent stops the least recently used idle one, and only that one.
        first = clients[0].runtime.kernel_id
        carol = AgentClient(runtimes, "session-carol", user_id=CAROL)
        await carol.spawn()
        assert runtimes.live("session-alice") is None and first not in km.list_kernel_ids()
        assert runtimes.live("session-bob") is clients[1].runtime
        assert len(km.list_kernel_ids()) == 2 and pool.available + pool.starting == 0
    finally:
        await runtimes.close()
    await _until(lambda: km.list_kernel_ids() == [])

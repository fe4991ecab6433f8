"""Running cases through the chat's own loop, and a whole suite with bounded concurrency.

A case is one chat on a fresh in-memory document: the prompt is the first user message, the
model runs in ``agent.InProcessAgent`` (the loop, the editor tools and their approval levels of
the chat); a run that stops for approvals is resumed with every call approved (``confirm``
tools are counted in ``approvals``), as a user clicking Approve would, until the model stops,
``max_turns`` rounds of tools have run, or the case's time limit passes. The document is then
scored (``scoring``), its script rebuilt in a fresh interpreter, and its picture drawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..agent.in_process import AgentTurn, InProcessAgent
from ..cad import CadDocument
from ..llm import (
    ApprovalDecision,
    CancelToken,
    LoopConfig,
    ModelAdapter,
    ScriptedAdapter,
    Transcript,
    create_adapter,
    pending_approvals,
    resolve_model,
    user_message_events,
)
from ..llm.factory import HOW_TO_CONFIGURE_TERMINAL
from ..protocol import agui
from ..tools import ToolRegistry, editor_registry
from .pricing import Price, list_price
from .rebuild import DEFAULT_REBUILD_TIMEOUT, rebuild_figures
from .results import CaseResult, EvalResults, read_results, write_results
from .scoring import NO_SOLID, compare_rebuild, measure_document, score
from .suite import Case, Suite

REPLAY = "replay"
#: Model errors that say nothing of the model's skill, only that the provider could not answer
#: (after the adapters' retries with backoff): ``--resume`` runs such cases again.
PROVIDER_TRANSIENT = frozenset({"rate_limited", "overloaded", "connection"})
DEFAULT_MAX_TURNS = 20
DEFAULT_TIME_LIMIT = 600.0
PARTS_DIR = "parts"
#: Cases at once: only the model calls overlap (CAD work is one tool at a time), and a
#: provider's rate limit is reached long before this.
MAX_JOBS = 64


@dataclass(frozen=True)
class EvalModel:
    """The model under evaluation: its label and the adapter a case talks to."""

    label: str
    adapter_for: Callable[[Case], ModelAdapter]
    price: Price | None = None


def eval_model(setting: str, environ: Mapping[str, str], price: Price | None = None) -> EvalModel:
    """``replay`` (each case's recorded turns) or a ``provider:model`` setting ("" = the
    default model). ``ModelNotConfigured`` / ``ValueError`` say what to set."""
    if setting == REPLAY:
        return EvalModel(REPLAY, _replay_adapter, price)
    choice = resolve_model(setting, environ)
    adapter = create_adapter(choice, environ, how_to_configure=HOW_TO_CONFIGURE_TERMINAL)
    assert choice is not None  # create_adapter refuses None
    label = f"{choice.provider}:{choice.name}"
    return EvalModel(label, lambda _case: adapter, price or list_price(label))


def _replay_adapter(case: Case) -> ModelAdapter:
    if not case.replay:
        raise ValueError(f"case {case.id} has no replay (needed by --model replay)")
    return ScriptedAdapter(case.replay_turns(), name=f"replay:{case.id}")


@dataclass(frozen=True)
class RunOptions:
    max_turns: int = DEFAULT_MAX_TURNS
    time_limit: float = DEFAULT_TIME_LIMIT
    rebuild_timeout: float = DEFAULT_REBUILD_TIMEOUT
    pictures: bool = True

    def __post_init__(self) -> None:
        if self.max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        if not self.time_limit > 0 or not self.rebuild_timeout > 0:
            raise ValueError("time limits must be positive numbers of seconds")


class OneAtATime(ToolRegistry):
    """A registry whose calls run one at a time under ``lock``, shared by every case of a
    run: CadQuery's string selectors are parsed by pyparsing, which is not thread-safe, so two
    cases' tools parsing ``'>Z'`` at once fail with "bad face selector". ``jobs`` then
    overlaps what takes a real model's time, the model calls, and never the CAD work."""

    def __init__(self, inner: ToolRegistry, lock: asyncio.Lock) -> None:
        super().__init__(inner.spec(name) for name in inner.names())
        self.lock = lock

    async def execute(self, name: str, raw_args: dict[str, Any], context: Any) -> Any:
        async with self.lock:
            work = asyncio.ensure_future(super().execute(name, raw_args, context))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                # A case past its time limit is cancelled here, but the tool's worker thread
                # cannot be stopped: the lock stays held until it ends, or another case's
                # CAD work (or this case's scoring) would run beside it.
                await asyncio.wait([work])
                raise


@dataclass
class _Conversation:
    tool_calls: int = 0
    tool_errors: int = 0
    approvals: int = 0
    model_turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    tool_rounds: int = 0
    finish_reason: str | None = None
    error: str | None = None
    error_code: str | None = None


async def _converse(
    case: Case,
    adapter: ModelAdapter,
    document: CadDocument,
    registry: OneAtATime,
    options: RunOptions,
    state: _Conversation,
    transcript: Transcript,
    cancel: CancelToken,
) -> None:
    agent = InProcessAgent(
        lambda: adapter,
        config=LoopConfig(max_tool_iterations=options.max_turns),
        registries={"editor": registry},
    )
    decisions: list[ApprovalDecision] = []
    while True:
        turn = AgentTurn(
            thread_id=f"eval-{case.id}",
            run_id=f"run-{uuid.uuid4().hex}",
            user_id="eval",
            context="editor",
            history=transcript.chat_history(),
            decisions=decisions,
            cancel=cancel,
            document=document,
            tool_rounds=state.tool_rounds,
        )
        finished: agui.RunFinished | None = None
        async for event in agent.run(turn):
            transcript.apply(event)
            if isinstance(event, agui.ToolCallStart):
                state.tool_calls += 1
            elif isinstance(event, agui.ToolCallResult):
                if ((event.metadata or {}).get("solidtype") or {}).get("isError"):
                    state.tool_errors += 1
            elif isinstance(event, agui.RunError):
                state.error = f"{event.code or 'error'}: {event.message}"
                state.error_code = event.code
                state.finish_reason = "error"
                return
            elif isinstance(event, agui.RunFinished):
                finished = event
        if finished is None:
            state.error = "the run ended without RUN_FINISHED"
            return
        meta = (finished.metadata or {}).get("solidtype") or {}
        usage = meta.get("usage") or {}
        state.input_tokens += int(usage.get("inputTokens") or 0)
        state.output_tokens += int(usage.get("outputTokens") or 0)
        state.tool_rounds = int(meta.get("toolRounds") or state.tool_rounds)
        state.finish_reason = str(meta.get("reason") or "")
        pending = pending_approvals(finished)
        if not pending:
            return
        state.approvals += len(pending)
        decisions = [ApprovalDecision(item, approved=True) for item in pending]


async def run_case(
    case: Case,
    model: EvalModel,
    options: RunOptions | None = None,
    *,
    parts_dir: Path | None = None,
    registry: OneAtATime | None = None,
) -> CaseResult:
    """One case, start to score. ``parts_dir``: where its script, document and picture go;
    ``registry``: the run's (its lock keeps CAD work of concurrent cases apart)."""
    options = options or RunOptions()
    registry = registry or OneAtATime(editor_registry(), asyncio.Lock())
    cad = registry.lock
    started = time.perf_counter()
    timings: dict[str, float] = {}
    document = CadDocument(case.id)
    state = _Conversation()
    transcript = Transcript(user_message_events(f"user-{case.id}", case.prompt))
    cancel = CancelToken()
    try:
        adapter = model.adapter_for(case)
    except ValueError as exc:
        state.error = str(exc)
    else:
        try:
            await asyncio.wait_for(
                _converse(case, adapter, document, registry, options, state, transcript, cancel),
                options.time_limit,
            )
        except TimeoutError:
            cancel.cancel()
            state.error = f"time limit: the case took longer than {options.time_limit:g} s"
    state.model_turns = sum(1 for m in transcript.messages if m.role == "assistant")
    timings["model_loop"] = time.perf_counter() - started

    mark = time.perf_counter()
    try:
        async with cad:
            figures = await asyncio.to_thread(measure_document, document)
    except Exception as exc:  # a document left unbuildable: no solid to score
        state.error = state.error or f"the model does not build: {exc}"
        figures = None
    misses = score(figures or NO_SOLID, case.expected, case.tolerance)
    timings["scoring"] = time.perf_counter() - mark

    rebuild: dict[str, Any] | None = None
    script: str | None = None
    picture: str | None = None
    if parts_dir is not None:  # what the model said and did, to see why a case failed
        await asyncio.to_thread(_save_transcript, transcript, parts_dir, case.id)
    if figures is not None and figures.solids:
        async with cad:
            script = await asyncio.to_thread(document.to_script)
        mark = time.perf_counter()
        rebuild = await rebuild_figures(script, options.rebuild_timeout)
        timings["rebuild"] = time.perf_counter() - mark
        misses += compare_rebuild(rebuild, figures)
        if parts_dir is not None:
            mark = time.perf_counter()
            async with cad:
                picture = await asyncio.to_thread(
                    _save_part, document, script, parts_dir, case.id, options.pictures
                )
            timings["picture"] = time.perf_counter() - mark
    cost = (
        model.price.cost(state.input_tokens, state.output_tokens)
        if model.price is not None
        else None
    )
    return CaseResult(
        id=case.id,
        **{"pass": not misses and state.error is None},
        prompt=case.prompt,
        expected=case.expected.model_dump(exclude_none=True),
        figures=figures.model_dump() if figures is not None else None,
        misses=misses,
        rebuild=rebuild,
        tool_calls=state.tool_calls,
        tool_errors=state.tool_errors,
        approvals=state.approvals,
        model_turns=state.model_turns,
        input_tokens=state.input_tokens,
        output_tokens=state.output_tokens,
        cost_usd=cost,
        seconds=round(time.perf_counter() - started, 3),
        timings={k: round(v, 3) for k, v in timings.items()},
        finish_reason=state.finish_reason,
        error=state.error,
        error_code=state.error_code,
        picture=picture,
        script=f"{PARTS_DIR}/{case.id}.py" if script is not None and parts_dir else None,
    )


def _save_transcript(transcript: Transcript, folder: Path, case_id: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    messages = [m.model_dump(mode="json", exclude_none=True) for m in transcript.messages]
    text = json.dumps(messages, indent=1, ensure_ascii=False)
    (folder / f"{case_id}.transcript.json").write_text(text + "\n", encoding="utf-8")


def _save_part(
    document: CadDocument, script: str, folder: Path, case_id: str, picture: bool
) -> str | None:
    """The script and the document beside the results, and the picture (None when offscreen
    rendering is unavailable: the report then shows the figures alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{case_id}.py").write_text(script, encoding="utf-8")
    document.save(folder / f"{case_id}.solid.json")
    if not picture:
        return None
    try:
        png = document.render("iso", 480, 360)
    except Exception:  # no EGL on this machine: the figures still say everything
        return None
    (folder / f"{case_id}.png").write_bytes(png)
    return f"{PARTS_DIR}/{case_id}.png"


Progress = Callable[[str, CaseResult | None], None]


async def run_suite(
    suite: Suite,
    model: EvalModel,
    out_dir: Path,
    *,
    jobs: int = 1,
    options: RunOptions | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> EvalResults:
    """Every case of ``suite`` (with ``resume``, those already in ``out_dir`` are skipped,
    except cases a provider stopped: rate limit, overload, lost connection),
    ``jobs`` at a time; ``results.json`` is rewritten after every case, and the reports
    at the end, also when the run is cancelled (Ctrl-C): finished cases are kept."""
    from .report import write_reports

    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}, got {jobs}")
    options = options or RunOptions()
    results = _start(suite, model, out_dir, jobs, options, resume)
    done = {c.id for c in results.cases}
    todo = [c for c in suite.cases if c.id not in done]
    try:
        write_results(results, out_dir)
    except OSError as exc:
        raise ValueError(f"cannot write the results in {out_dir}: {exc}") from None
    registry = OneAtATime(editor_registry(), asyncio.Lock())
    gate = asyncio.Semaphore(jobs)
    lock = asyncio.Lock()
    clock = time.perf_counter()
    spent = results.seconds

    async def one(case: Case) -> None:
        async with gate:
            if progress is not None:
                progress(case.id, None)
            result = await run_case(
                case, model, options, parts_dir=out_dir / PARTS_DIR, registry=registry
            )
            async with lock:
                results.add(result)
                results.seconds = round(spent + time.perf_counter() - clock, 3)
                await asyncio.to_thread(write_results, results, out_dir)
            if progress is not None:
                progress(case.id, result)

    tasks = [asyncio.ensure_future(one(case)) for case in todo]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
        order = {c.id: i for i, c in enumerate(suite.cases)}
        results.cases.sort(key=lambda c: order.get(c.id, len(order)))
        results.tally()
        results.seconds = round(spent + time.perf_counter() - clock, 3)
        if results.complete:
            results.finished = _now()
        write_results(results, out_dir)
        write_reports(results, out_dir)
    return results


def kept_on_resume(previous: EvalResults, suite: Suite) -> list[CaseResult]:
    """The finished cases of ``previous`` that ``--resume`` keeps: those still in ``suite``
    and not stopped by the provider (``PROVIDER_TRANSIENT``: they run again)."""
    ids = {c.id for c in suite.cases}
    return [c for c in previous.cases if c.id in ids and c.error_code not in PROVIDER_TRANSIENT]


def _start(
    suite: Suite, model: EvalModel, out_dir: Path, jobs: int, options: RunOptions, resume: bool
) -> EvalResults:
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} is a file: --out names the folder of the results")
    previous = read_results(out_dir)
    if previous is not None and not resume:
        raise ValueError(
            f"{out_dir} already holds results ({previous.completed} cases of {previous.model}): "
            "add --resume to continue that run, or choose another --out"
        )
    if previous is not None:
        if previous.model != model.label:
            raise ValueError(
                f"{out_dir} holds results of the model {previous.model}, not {model.label}: "
                "resume with the same --model, or choose another --out"
            )
        previous.cases = kept_on_resume(previous, suite)
        previous.total = len(suite.cases)
        previous.suite = suite.name
        previous.jobs, previous.max_turns = jobs, options.max_turns
        previous.time_limit = options.time_limit
        previous.finished = None
        previous.tally()
        return previous
    return EvalResults(
        model=model.label,
        suite=suite.name,
        started=_now(),
        total=len(suite.cases),
        jobs=jobs,
        max_turns=options.max_turns,
        time_limit=options.time_limit,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

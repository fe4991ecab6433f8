"""``ChatService``: one chat turn from request to stored events, and every way to read them.

A turn (``start``) checks the request against the session's stream (what is open, what
waits for approval), writes the user's message and a ``run.accepted`` marker, and starts the
run as an asyncio task that talks to a ``ChatAgent``. Every event the agent produces is
appended to ``ai-chat/{session id}`` before anyone can see it: HTTP responses, resumes and
the CLI only ever read the stream (``follow``), so a client that goes away does not stop the
run and a client that comes back gets exactly the events after its offset.

The task also keeps the session row current (``record_message``: count, last message time,
auto title) and, in the editor, saves the session's CAD document after every tool result.
``cancel`` stops a running turn (the loop keeps the partial text and ends the run);
``hydrate`` rebuilds ``{messages, activeRun, interrupts}`` from the stream; a run left open
by a server that died is finished by ``recover`` (see ``agent.recovery``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from ..cad import CadDocument, CadError
from ..cad.document import document_file
from ..llm import (
    ApprovalDecision,
    CancelToken,
    ChatMessage,
    ResumeError,
    UserMessage,
    decide_approvals,
    user_message_events,
)
from ..llm.redact import redact_event
from ..llm.transcript import Transcript
from ..protocol import agui
from ..protocol.api import ShapeReference
from ..protocol.sessions import MessageRole, chat_stream_path
from ..streams import StreamEngine, format_offset
from ..streams.live import PushedMessages
from ..streams.offsets import InvalidOffsetError, parse_offset
from .event_log import (
    RUN_ACCEPTED,
    LoggedEvent,
    SessionLog,
    StreamWriter,
    decode,
    ensure_stream,
    read_all,
)
from .in_process import AgentTurn, ChatAgent
from .recovery import ReplayFilter, plan_recovery
from .ui_messages import ui_messages

log = logging.getLogger(__name__)


class ChatError(Exception):
    """A request the service refuses; ``status`` is the HTTP answer (409, 422)."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


@dataclass
class TurnStart:
    """Where a response starts reading (``position``) and which run it follows."""

    run_id: str
    position: int


@dataclass
class LiveRun:
    session_id: str
    run_id: str
    cancel: CancelToken
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class DocumentAccess(Protocol):
    """Whether the user whose request started a run may read or write files, asked when
    the run opens its editor document and again before every save (the server's is
    ``server.documents.ContentsAccess``, jupyter_server's ``contents`` permission)."""

    async def allowed(self, action: Literal["read", "write"]) -> bool: ...


class DocumentRefused(Exception):
    """A run's document cannot be opened or saved. The message is for the client: it names
    the document by its contents path, never by where the server keeps it."""

    def __init__(self, message: str, code: str = "document_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


_NO_READ = "you may not read files (jupyter_server's `contents` permission)"
_NO_WRITE = "you may no longer write files (jupyter_server's `contents` permission)"


class OpenDocument:
    """The server's copy of an editor document (``path``: its real location): every editor
    of the file in this server (chat runs, MCP sessions) edits this one object, and saves
    it after its changes (``save_if_changed``), so no editor's save drops another's edit."""

    def __init__(self, document: CadDocument, path: Path, relative: str, root: Path | None) -> None:
        self.document = document
        self.path = path
        self.relative = relative  # the contents path: what messages name
        self.root = root
        self.saved_revision = document.revision

    async def save_if_changed(self, access: DocumentAccess | None, required: bool) -> None:
        revision = self.document.revision
        if revision == self.saved_revision:
            return
        if required and (access is None or not await access.allowed("write")):
            raise DocumentRefused(
                f"{self.relative} was not saved: {_NO_WRITE}; the change is discarded",
                code="forbidden",
            )
        self.saved_revision = revision  # a failed save is reported once, not at every result
        try:
            await asyncio.to_thread(self.document.save, self.path, root=self.root)
        except CadError as exc:  # the file now resolves outside the root (a planted link)
            raise DocumentRefused(f"{self.relative} was not saved: {exc}") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DocumentRefused(f"{self.relative} was not saved: {reason}") from None


def parse_position(offset: str) -> int:
    """A client's offset (``-1`` = the start) as a stream position; ``ChatError`` 400."""
    if offset in ("-1", ""):
        return 0
    try:
        return parse_offset(offset)
    except InvalidOffsetError:
        raise ChatError(400, f"invalid offset {offset!r}") from None


class ChatService:
    """Chat turns of every session of a server (or of the CLI's process).

    ``engine``: an async callable giving the started stream engine; ``sessions``: the
    ``ChatSessionRepository``; ``agent``: what runs a turn; ``catalog`` and ``root_dir``:
    where an editor session's document is found (its ``*.solid.json`` under ``root_dir``).
    """

    def __init__(
        self,
        engine: Callable[[], Awaitable[StreamEngine]],
        sessions: Any,
        agent: ChatAgent,
        *,
        catalog: Any = None,
        root_dir: Path | None = None,
        cached_logs: int = 64,
        require_document_access: bool = False,
    ) -> None:
        self._engine = engine
        self.sessions = sessions
        self.agent = agent
        self.catalog = catalog
        self.root_dir = root_dir
        # How error texts may spell the root (as given and with links resolved), longest
        # first: resolved once, not for every event on the event loop.
        self._root_spellings: tuple[str, ...] = (
            ()
            if root_dir is None
            else tuple(sorted({str(root_dir), str(root_dir.resolve())}, key=len, reverse=True))
        )
        # A server sets it: every open and save of a document then needs the `access` of
        # the request behind the run (none given: refused). A local process (the CLI, a
        # notebook) works with its own user's files and passes none.
        self.require_document_access = require_document_access
        self._runs: dict[str, LiveRun] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._logs: OrderedDict[str, SessionLog] = OrderedDict()
        self._cached_logs = cached_logs
        self._documents: dict[Path, OpenDocument] = {}
        self._closed = False

    # --- reading --------------------------------------------------------------------------

    def open_document(self, path: Path) -> CadDocument | None:
        """The server's copy of the document at ``path`` (its real location) while an
        editor session has it open: the live one, changed by agents as they work and saved
        after every tool result. The tessellation route serves its revision."""
        opened = self._documents.get(path)
        return opened.document if opened is not None else None

    def shared_document(self, path: Path) -> OpenDocument | None:
        """The server's copy of the document at ``path`` (its real location), if open."""
        return self._documents.get(path)

    def share_document(self, opened: OpenDocument) -> OpenDocument:
        """``opened`` kept as the server's copy of its file unless another is kept already:
        the copy every editor of the file must use from now on (the caller's or that one).
        A chat run forgets its copy when it cannot save it; sharing it again keeps it."""
        return self._documents.setdefault(opened.path, opened)

    def live_run(self, session_id: uuid.UUID | str) -> LiveRun | None:
        return self._runs.get(str(session_id))

    def live_runs(self) -> list[LiveRun]:
        return list(self._runs.values())

    async def session_log(self, session: Any) -> SessionLog:
        """The session's stream folded (cached; new events are read incrementally)."""
        engine = await self._engine()
        key = str(session.id)
        path = chat_stream_path(session.id)
        folded = self._logs.get(key)
        if folded is None:
            await ensure_stream(engine, path)
            folded = SessionLog()
            self._logs[key] = folded
            while len(self._logs) > self._cached_logs:
                self._logs.popitem(last=False)
        self._logs.move_to_end(key)
        for logged in await read_all(engine, path, folded.position):
            folded.apply(logged)
        return folded

    async def follow(
        self, session: Any, after: int, *, until_terminal: bool = True
    ) -> AsyncIterator[list[LoggedEvent]]:
        """Stored events after ``after``, live, in batches: ends after a terminal event
        (with ``until_terminal``) or when caught up with no run going in this process. An
        empty batch now and then while nothing arrives (a keep-alive for SSE)."""
        engine = await self._engine()
        path = chat_stream_path(session.id)
        await ensure_stream(engine, path)
        key = str(session.id)
        position = after
        use_cache = False  # the first read from the database, later ones from memory
        final = False
        while True:
            seen = engine.live.version(path)
            result = await engine.read_at(path, position, use_cache=use_cache)
            use_cache = True
            batch = decode(result.messages, position, source=path)
            if result.messages:
                position = max(position, result.messages[-1].end)
            if _ends(batch, until_terminal):
                yield _through_terminal(batch)
                return
            if batch:
                yield batch
            if not result.up_to_date:
                continue
            live = self._runs.get(key)
            if live is None or live.task is None:
                if final:
                    return
                final = True  # read once more: the run may have ended just before
                continue
            final = False
            if engine.live.version(path) != seen:
                continue  # appended since our read: read again
            # Caught up while the run goes on: its appends are pushed to us as they commit.
            pushed = PushedMessages(
                engine.live, path, position, engine.long_poll_timeout, stop=live.task
            )
            try:
                while (messages := await pushed.next()) is not None:
                    batch = decode(messages, position, source=path)
                    if messages:
                        position = messages[-1].end
                    if _ends(batch, until_terminal):
                        yield _through_terminal(batch)
                        return
                    yield batch  # [] when nothing came for a while: a keep-alive for SSE
            finally:
                pushed.close()

    async def events_after(self, session: Any, position: int) -> list[LoggedEvent]:
        """The stored events after ``position`` (a catch-up read, no waiting)."""
        engine = await self._engine()
        path = chat_stream_path(session.id)
        await ensure_stream(engine, path)
        return await read_all(engine, path, position)

    async def hydrate(
        self, user_id: str, session: Any, access: DocumentAccess | None = None
    ) -> dict[str, Any]:
        """The conversation rebuilt from the stream, for Python callers: ``messages``
        (AG-UI wire messages, tool results as ``role: "tool"`` rows), ``activeRun``
        (``{runId}`` or null), ``interrupts`` (the waiting approval interrupts, a list) and
        ``offset`` (where a live read would go on)."""
        await self.recover(user_id, session, access)
        folded = await self.session_log(session)
        active = folded.open_run
        return {
            "messages": [m.to_wire() for m in folded.transcript.messages],
            "activeRun": {"runId": active.run_id} if active is not None else None,
            "interrupts": [
                i.model_dump(by_alias=True, exclude_none=True) for i in _waiting(folded)
            ],
            "offset": format_offset(folded.position),
        }

    async def client_hydrate(
        self, user_id: str, session: Any, access: DocumentAccess | None = None
    ) -> dict[str, Any]:
        """What ``ChatClient``'s hydrate reads (the HTTP routes answer this): ``messages``
        in TanStack's ``UIMessage`` shape, ``activeRun``, ``interrupts`` as ``{runId,
        pending}`` or null, and ``offset``."""
        await self.recover(user_id, session, access)
        folded = await self.session_log(session)
        transcript = folded.transcript
        active = folded.open_run
        waiting = _waiting(folded)
        interrupts = None
        if waiting and transcript.last_run_id is not None:
            interrupts = {
                "runId": transcript.last_run_id,
                "pending": [i.model_dump(by_alias=True, exclude_none=True) for i in waiting],
            }
        return {
            "messages": ui_messages(transcript.messages, transcript.pending),
            "activeRun": {"runId": active.run_id} if active is not None else None,
            "interrupts": interrupts,
            "offset": format_offset(folded.position),
        }

    # --- turns ----------------------------------------------------------------------------

    def _lock(self, session_id: str) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    def _agent_starts(self, session: Any) -> bool:
        """Whether this turn first starts the session's agent (a kernel takes seconds)."""
        probe = getattr(self.agent, "must_start", None)
        return bool(probe(str(session.id), str(session.context))) if callable(probe) else False

    async def start(
        self,
        user_id: str,
        session: Any,
        body: agui.RunAgentInput,
        access: DocumentAccess | None = None,
    ) -> TurnStart:
        """Start the turn ``body`` asks for (or find it, when the same run is posted again).
        ``access``: the permissions of the request's user, asked at every open and save of
        an editor session's document."""
        if self._closed:
            raise ChatError(503, "the chat service is shutting down")
        opens_document = self.require_document_access and self._has_document(session)
        if opens_document and (access is None or not await access.allowed("read")):
            raise ChatError(403, f"this session edits a document, and {_NO_READ}")
        key = str(session.id)
        async with self._lock(key):
            await self._recover_locked(user_id, session, access)
            folded = await self.session_log(session)
            known = folded.runs.get(body.run_id)
            if known is not None:  # the same request again (a retry): follow that run
                return TurnStart(body.run_id, known.start)
            if folded.open_run is not None:
                raise ChatError(
                    409,
                    f"run {folded.open_run.run_id} is still answering; wait for it or stop it "
                    f"(POST .../session/{session.id}/cancel)",
                    activeRun=folded.open_run.run_id,
                )
            transcript = folded.transcript
            decisions: list[ApprovalDecision] = []
            history: list[ChatMessage] = transcript.chat_history()
            events: list[agui.AguiEvent] = []
            user_text: str | None = None
            selection = body.selection()  # the user's picks in the 3D viewer
            if body.resume:
                decisions = self._decisions(transcript, body)
            else:
                if transcript.pending:
                    ids = ", ".join(p.interrupt_id for p in transcript.pending)
                    raise ChatError(
                        409,
                        f"tool calls wait for approval ({ids}); answer them with `resume` "
                        "(approve or reject) before sending a new message",
                        interrupts=[p.interrupt_id for p in transcript.pending],
                    )
                message = _new_user_message(body, transcript)
                user_text = message.content or ""
                events.extend(
                    user_message_events(message.id or f"user_{uuid.uuid4().hex}", user_text)
                )
                history.append(UserMessage(user_text))
            events.append(
                agui.Custom(
                    name=RUN_ACCEPTED,
                    value={
                        "runId": body.run_id,
                        "threadId": body.thread_id,
                        "parentRunId": body.parent_run_id,
                        "resume": [
                            r.model_dump(by_alias=True, exclude_none=True)
                            for r in body.resume or ()
                        ],
                        # Clients say "Starting the agent" until RUN_STARTED (seconds).
                        "agentStarting": self._agent_starts(session),
                        # Kept for a run finished after a restart (``recover``).
                        **({"selection": selection} if selection else {}),
                    },
                )
            )
            engine = await self._engine()
            writer = StreamWriter(engine, chat_stream_path(session.id))
            await writer.put_all(events)
            await writer.drain()
            if user_text is not None:
                await self.sessions.record_message(
                    user_id, session.id, role=MessageRole.USER, text=user_text
                )
            folded = await self.session_log(session)
            start = folded.runs[body.run_id].start
            turn = AgentTurn(
                thread_id=body.thread_id,
                run_id=body.run_id,
                user_id=user_id,
                context=str(session.context),
                history=history,
                decisions=decisions,
                selection=selection,
            )
            self._launch(user_id, session, turn, writer, None, access)
            return TurnStart(body.run_id, start)

    def _decisions(
        self, transcript: Transcript, body: agui.RunAgentInput
    ) -> list[ApprovalDecision]:
        pending = transcript.pending
        if not pending:
            raise ChatError(422, "`resume` answers nothing: no tool call waits for approval")
        if body.parent_run_id is not None and body.parent_run_id != transcript.last_run_id:
            raise ChatError(
                422,
                f"parentRunId {body.parent_run_id} is not the interrupted run "
                f"{transcript.last_run_id}",
            )
        try:
            return decide_approvals(pending, body.resume or ())
        except ResumeError as exc:
            raise ChatError(422, str(exc)) from None

    def _launch(
        self,
        user_id: str,
        session: Any,
        turn: AgentTurn,
        writer: StreamWriter,
        replay: ReplayFilter | None,
        access: DocumentAccess | None,
    ) -> LiveRun:
        live = LiveRun(str(session.id), turn.run_id, turn.cancel)
        self._runs[live.session_id] = live
        live.task = asyncio.ensure_future(
            self._drive(user_id, session, turn, writer, replay, live, access)
        )
        return live

    async def _drive(
        self,
        user_id: str,
        session: Any,
        turn: AgentTurn,
        writer: StreamWriter,
        replay: ReplayFilter | None,
        live: LiveRun,
        access: DocumentAccess | None,
    ) -> None:
        finished = False
        document: OpenDocument | None = None
        events: AsyncIterator[agui.AguiEvent] | None = None
        try:
            document = await self._document(user_id, session, access)
            if self.require_document_access and document is None:
                # The dashboard's tools create folders and files: only with write access.
                turn.may_write_files = access is not None and await access.allowed("write")
            turn.document = document.document if document else None
            turn.document_path = document.relative if document else None
            events = self.agent.run(turn)
            async for event in events:
                out = replay.feed(event) if replay is not None else [event]
                for item in out:
                    # Every agent's events pass here (thread, kernel, remote): no secret
                    # a provider echoed reaches the stream, SSE or the CLI.
                    item = self._for_client(item)
                    await writer.put(item)
                    finished = finished or item.type in ("RUN_FINISHED", "RUN_ERROR")
                    await self._after(user_id, session, item, document, access)
            if replay is not None:
                await writer.put_all(replay.flush_unmatched())
            if not finished:  # an agent that ended without saying so
                await writer.put(
                    agui.RunError(message="the agent ended without finishing", code="internal")
                )
            await writer.drain()
        except asyncio.CancelledError:
            # The server is stopping: keep what was produced; the run stays open and is
            # finished by recover() after the restart.
            with contextlib.suppress(BaseException):
                await writer.drain()
            raise
        except DocumentRefused as exc:
            log.warning("chat run %s of session %s: %s", turn.run_id, session.id, exc.message)
            turn.cancel.cancel()
            if document is not None:  # reopened from the file by the next run
                self._documents.pop(document.path, None)
            with contextlib.suppress(Exception):
                if not finished:
                    await writer.put(agui.RunError(message=exc.message, code=exc.code))
                await writer.drain()
            if events is not None:  # the agent winds its cancelled run down; nothing is kept
                with contextlib.suppress(Exception):
                    async for _ in events:
                        pass
        except Exception as exc:
            log.exception("chat run %s of session %s failed", turn.run_id, session.id)
            with contextlib.suppress(Exception):
                if not finished:
                    error = agui.RunError(message=f"internal error: {exc}", code="internal")
                    await writer.put(self._for_client(error))
                await writer.drain()
        finally:
            if self._runs.get(live.session_id) is live:
                del self._runs[live.session_id]
            live.done.set()

    async def _after(
        self,
        user_id: str,
        session: Any,
        event: agui.AguiEvent,
        document: OpenDocument | None,
        access: DocumentAccess | None,
    ) -> None:
        if isinstance(event, agui.TextMessageEnd):
            await self.sessions.record_message(
                user_id, session.id, role=MessageRole.ASSISTANT, text=""
            )
        elif isinstance(event, agui.ToolCallResult):
            await self.sessions.record_message(user_id, session.id, role=MessageRole.TOOL, text="")
            if document is not None:
                await document.save_if_changed(access, self.require_document_access)

    def _has_document(self, session: Any) -> bool:
        return (
            str(session.context) == "editor"
            and session.document_id is not None
            and self.catalog is not None
            and self.root_dir is not None
        )

    async def _document(
        self, user_id: str, session: Any, access: DocumentAccess | None
    ) -> OpenDocument | None:
        """The editor session's CAD document (loaded once per file), or ``None``;
        ``DocumentRefused`` when the user may not read it or it cannot be opened."""
        if not self._has_document(session):
            return None
        assert self.root_dir is not None
        entry = await self.catalog.get_document(user_id, session.document_id)
        if entry is None:
            return None
        if self.require_document_access and (access is None or not await access.allowed("read")):
            raise DocumentRefused(f"{entry.path} cannot be opened: {_NO_READ}", code="forbidden")
        try:
            path = await asyncio.to_thread(document_file, self.root_dir, entry.path)
        except CadError as exc:  # a link out of the root
            raise DocumentRefused(f"{entry.path} cannot be opened: {exc}") from None
        cached = self._documents.get(path)
        if cached is not None:
            return cached
        try:
            if await asyncio.to_thread(lambda: path.exists() and path.stat().st_size > 0):
                # Not built here: the agent builds its replica (in its kernel); CadQuery
                # in this process would hold the interpreter lock, and the event loop.
                document = await asyncio.to_thread(CadDocument.load, path, build=False)
            else:
                document = CadDocument(entry.name)
        except CadError as exc:
            raise DocumentRefused(f"{entry.path} cannot be opened: {exc}") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DocumentRefused(f"{entry.path} cannot be opened: {reason}") from None
        opened = OpenDocument(document, path, entry.path, self.root_dir)
        self._documents[path] = opened
        return opened

    def _for_client(self, event: agui.AguiEvent) -> agui.AguiEvent:
        """``event`` as it may be stored and sent: no server path, no secret."""
        return redact_event(self._without_server_paths(event))

    def _without_server_paths(self, event: agui.AguiEvent) -> agui.AguiEvent:
        """``event`` with the server's root folder cut out of error texts and tool results
        (an OS error names absolute paths; clients see contents paths only)."""
        if not self._root_spellings or not isinstance(event, agui.RunError | agui.ToolCallResult):
            return event
        field = "message" if isinstance(event, agui.RunError) else "content"
        text = original = getattr(event, field)
        for root in self._root_spellings:
            text = text.replace(root.rstrip("/") + "/", "").replace(root, ".")
        return event if text == original else event.model_copy(update={field: text})

    # --- stop and recovery ----------------------------------------------------------------

    async def cancel(self, session: Any) -> str | None:
        """Stop the session's running turn; its id, or ``None`` when nothing runs."""
        live = self._runs.get(str(session.id))
        if live is None:
            return None
        live.cancel.cancel()
        return live.run_id

    async def recover(
        self, user_id: str, session: Any, access: DocumentAccess | None = None
    ) -> bool:
        """Finish a run the stream shows open while no task runs it (the server died); its
        document is opened and saved with ``access``, the caller's permissions."""
        async with self._lock(str(session.id)):
            return await self._recover_locked(user_id, session, access)

    async def _recover_locked(
        self, user_id: str, session: Any, access: DocumentAccess | None
    ) -> bool:
        if self._closed or str(session.id) in self._runs:
            return False
        folded = await self.session_log(session)
        run = folded.open_run
        if run is None:
            return False
        plan = plan_recovery(folded.open_events)
        # The history as it was where the re-run starts (rare: read the stream again).
        engine = await self._engine()
        everything = await read_all(engine, chat_stream_path(session.id))
        first = next(i for i, e in enumerate(everything) if e.position > run.start)
        before = Transcript(logged.event() for logged in everything[: first + plan.turn_index])
        decisions: list[ApprovalDecision] = []
        if plan.turn_index == 1 and run.accepted.get("resume"):
            prior = Transcript(logged.event() for logged in everything[:first])
            answers = [agui.ResumeItem.model_validate(r) for r in run.accepted["resume"]]
            with contextlib.suppress(ResumeError):
                decisions = decide_approvals(prior.pending, answers)
        log.warning(
            "chat run %s of session %s was left open (server restart): finishing it from "
            "event %d of the run",
            run.run_id,
            session.id,
            plan.turn_index,
        )
        turn = AgentTurn(
            thread_id=str(run.accepted.get("threadId") or session.id),
            run_id=run.run_id,
            user_id=user_id,
            context=str(session.context),
            history=before.chat_history(),
            decisions=decisions,
            stored_results=plan.stored_results,
            tool_rounds=plan.tool_rounds,
            selection=_stored_selection(run.accepted.get("selection")),
        )
        writer = StreamWriter(engine, chat_stream_path(session.id))
        self._launch(
            user_id,
            session,
            turn,
            writer,
            ReplayFilter(plan.stored, run_started=run.started),
            access,
        )
        return True

    async def close(self) -> None:
        """Stop every run task (their runs stay open in the stream; see ``recover``)."""
        self._closed = True
        tasks = [live.task for live in self._runs.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    async def wait_idle(self, session_id: uuid.UUID | str) -> None:
        live = self._runs.get(str(session_id))
        if live is not None:
            await live.done.wait()


def _ends(batch: list[LoggedEvent], until_terminal: bool) -> bool:
    return until_terminal and any(logged.terminal for logged in batch)


def _through_terminal(batch: list[LoggedEvent]) -> list[LoggedEvent]:
    end = next(index for index, logged in enumerate(batch) if logged.terminal)
    return batch[: end + 1]


def _waiting(folded: SessionLog) -> list[agui.Interrupt]:
    pending = {p.interrupt_id for p in folded.transcript.pending}
    if not pending or folded.last_finished is None:
        return []
    finished = folded.last_finished.event()
    assert isinstance(finished, agui.RunFinished)
    if finished.outcome is None:
        return []
    return [i for i in finished.outcome.interrupts if i.id in pending]


def _stored_selection(stored: Any) -> list[dict[str, Any]]:
    """The selection a stored ``run.accepted`` marker kept (checked again: it is read back
    from the stream); none when it is missing or no longer valid."""
    try:
        items = [ShapeReference.model_validate(item) for item in stored or ()]
    except (TypeError, ValidationError):
        return []
    return [item.as_selection() for item in items]


def _new_user_message(body: agui.RunAgentInput, transcript: Transcript) -> agui.Message:
    """The message this request adds: the last one, a user message not stored yet."""
    if not body.messages or body.messages[-1].role != "user":
        raise ChatError(
            422, "a new turn needs a user message last in `messages` (or `resume` answers)"
        )
    message = body.messages[-1]
    if not (message.content or "").strip():
        raise ChatError(422, "the user message is empty")
    stored_ids = {m.id for m in transcript.messages}
    if message.id is not None and message.id in stored_ids:
        raise ChatError(
            422, f"message {message.id} is already in the conversation; send a new message"
        )
    return message

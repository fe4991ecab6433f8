"""``Chat``: a chat session of the notebook's kernel, for code (``chat.send``) and the panel.

A ``Chat`` is bound to one CAD document (in memory, saved to its ``*.solid.json`` after each
change when it came from a file) and one session at a time (switch, new, archive). Turns go
through the kernel's ``ChatService`` (``runtime.ChatRuntime``), so every event is stored in
the session's durable stream first; the panel is fed from that stream by a pump task that
posts each stored batch to the widget (and a PNG of the model after each change).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agent import LoggedEvent
from ..agent.event_log import read_all
from ..cad import CadDocument
from ..llm import ModelAdapter, demo_description
from ..protocol import agui
from ..protocol.agent import AgentIdentity
from ..protocol.sessions import ChatStatus, chat_stream_path
from ..streams import format_offset
from .chat_widget import (
    Approve,
    Archive,
    ChatWidget,
    Command,
    More,
    New,
    Ready,
    Reject,
    Retry,
    Send,
    Stop,
    Switch,
)
from .heartbeat import NotebookAgentHeartbeat
from .runtime import ChatRuntime
from .viewer import Selection, render_selection, resolve, selection_of_call
from .viewer3d import ModelViewer3D

log = logging.getLogger(__name__)

#: Messages per history page sent to the panel (the first page is the newest).
PAGE_SIZE = 100
VIEW_SIZE = (640, 480)
#: Where the model shows: jupyter-cadquery's 3D viewer in the right panel, a picture in the
#: chat panel, or nowhere.
VIEWERS = ("3d", "png", "none")
THUMBNAIL_SIZE = (320, 240)


class ChatUsageError(ValueError):
    """A call the chat cannot do as asked (unknown session, nothing to approve, ...)."""


@dataclass
class Turn:
    """What one run did: its text, how it ended, and what waits for approval."""

    run_id: str
    outcome: str  # "finished" | "approval" | "error" | "cancelled" | "running"
    text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    interrupts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    document: CadDocument | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        lines = [f"<Turn {self.outcome}: {len(self.tool_calls)} tool call(s)>"]
        if self.text:
            lines.append(self.text)
        for item in self.interrupts:
            lines.append(
                f"waiting for approval: {item['toolName']} {json.dumps(item['input'])} "
                f"(chat.approve({item['id']!r}) or chat.reject({item['id']!r}))"
            )
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)

    def _repr_png_(self) -> bytes | None:
        return _document_png(self.document, *VIEW_SIZE)


def _document_png(document: CadDocument | None, width: int, height: int) -> bytes | None:
    if document is None or not document.features:
        return None
    try:
        return document.render("iso", width, height)
    except Exception:  # no solid yet, or no offscreen OpenGL here
        return None


class Chat:
    """A notebook chat: ``send``, ``approve``/``reject``, ``stop``, ``messages``, ``document``,
    ``shape``, ``to_script()``, ``sessions()``, ``switch``/``new_session``/``archive``.

    Made by ``%ai_chat`` (which also shows ``widget``); ``Chat.open(...)`` makes one in code.
    """

    def __init__(
        self,
        runtime: ChatRuntime,
        session: Any,
        *,
        model: Callable[[], ModelAdapter],
        model_label: str,
        document: CadDocument | None,
        document_path: Path | None = None,
        context: str = "editor",
        widget: ChatWidget | None = None,
        viewer: str = "png",
    ) -> None:
        if viewer not in VIEWERS:
            raise ChatUsageError(f"viewer must be one of {', '.join(VIEWERS)}, not {viewer!r}")
        self.runtime = runtime
        self.context = context
        self.model_label = model_label
        self._model = model
        self._document = document
        self.document_path = document_path
        self._session = session
        self._position = 0
        self._pump: asyncio.Task[None] | None = None
        self._kick: asyncio.Event | None = None
        self._heartbeat: NotebookAgentHeartbeat | None = None
        self._viewer: asyncio.Task[None] | None = None
        self._viewed_revision: str | None = None
        self._saved_revision = document.revision if document is not None else None
        self._decisions: dict[str, agui.ResumeItem] = {}
        self._tool_names: dict[str, str] = {}
        self._tool_args: dict[str, list[str]] = {}
        self._selection: Selection | None = None  # what the agent last looked at / acted on
        self.shown_in: int | None = None  # execution count of the cell that showed the panel
        self.widget = widget or ChatWidget()
        self.widget.handler = self._on_command
        self.widget.fallback_png = lambda: _document_png(self._document, *VIEW_SIZE)
        self.widget.placeholder = (
            "Ask about projects, documents, workspaces…"
            if context == "dashboard"
            else "Describe what you want to create or modify…"
        )
        self.viewer = viewer if document is not None else "none"
        self.viewer3d: ModelViewer3D | None = None
        if self.viewer == "3d" and document is not None:
            self.viewer3d = ModelViewer3D(
                f"SolidType: {_viewer_name(document, document_path)}", _agent_color(session)
            )
        self.widget.show_viewer = self.viewer == "png"
        self._bind(session)
        self.runtime.call(self._start_pump(initial=True))

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        runtime: ChatRuntime,
        *,
        model: Callable[[], ModelAdapter],
        model_label: str,
        document: CadDocument | None,
        document_path: Path | None = None,
        context: str = "editor",
        session_id: str | None = None,
        widget: ChatWidget | None = None,
        viewer: str = "png",
    ) -> Chat:
        """A chat on an existing session (``session_id``, the user's own) or a new one."""

        async def find() -> Any:
            if session_id is not None:
                session = await runtime.sessions.get(runtime.user_id, session_id)
                if session is None:
                    raise ChatUsageError(
                        f"no session {session_id} of user {runtime.user_id!r} in this database"
                    )
                return session
            return await runtime.sessions.create(runtime.user_id, context)

        session = runtime.call(find())
        return cls(
            runtime,
            session,
            model=model,
            model_label=model_label,
            document=document,
            document_path=document_path,
            context=str(session.context),
            widget=widget,
            viewer=viewer,
        )

    def _bind(self, session: Any) -> None:
        self._session = session
        self.widget.session_id = str(session.id)
        if self.viewer3d is not None:
            self.viewer3d.agent_color = _agent_color(session)
        self.runtime.agent.bind(
            str(session.id),
            self._model,
            self._document,
            self.model_label,
            catalog=self.runtime.catalog,
            root_dir=Path.cwd(),
        )

    # --- what the notebook reads ----------------------------------------------------------

    @property
    def session_id(self) -> str:
        return str(self._session.id)

    @property
    def document(self) -> CadDocument | None:
        """The CAD document the agent edits (``None`` in a dashboard chat)."""
        return self._document

    @property
    def shape(self) -> Any:
        """The current model as a CadQuery ``Workplane``."""
        if self._document is None:
            raise ChatUsageError("a dashboard chat has no CAD document")
        return self._document.shape

    def to_script(self) -> str:
        """The model as a standalone CadQuery script."""
        if self._document is None:
            raise ChatUsageError("a dashboard chat has no CAD document")
        return self._document.to_script()

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation as AG-UI messages (user, assistant with tool calls, tool)."""
        return list(self.runtime.call(self._hydrate())["messages"])

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Tool calls waiting for approval: ``[{id, toolCallId, toolName, input}]``."""
        interrupts = self.runtime.call(self._hydrate())["interrupts"]
        return [_interrupt_summary(i) for i in interrupts]

    def sessions(self, *, include_archived: bool = False) -> list[dict[str, Any]]:
        """The user's sessions of this chat's context, most recent first."""
        rows = self.runtime.call(self._list_sessions())
        return [
            _session_summary(s) for s in rows if include_archived or s.status != ChatStatus.ARCHIVED
        ]

    def __repr__(self) -> str:
        return f"<Chat session={self.session_id} context={self.context} model={self.model_label}>"

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import display as _display

        display: Any = _display
        shell = get_ipython()
        if shell is not None and self.shown_in == shell.execution_count:
            return  # `%ai_chat` already showed the panel in this cell
        display(self.widget)

    # --- what the notebook does -----------------------------------------------------------

    def send(self, text: str, *, wait: bool = True, timeout: float | None = None) -> Turn | None:
        """Send a message. With ``wait`` (default) block until the run ends or waits for an
        approval and return the ``Turn``; interrupting the kernel stops the run."""
        if not isinstance(text, str) or not text.strip():
            raise ChatUsageError("the message is empty")
        run_id = self.runtime.call(self._send(text))
        return self._wait(run_id, timeout) if wait else None

    def approve(
        self,
        interrupt_id: str,
        edited_args: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> Turn | None:
        """Approve a waiting tool call (its interrupt id or tool call id), optionally with
        edited arguments. When several calls wait, the run resumes once all are answered."""
        payload: dict[str, Any] = {"approved": True}
        if edited_args is not None:
            if not isinstance(edited_args, dict):
                raise ChatUsageError("edited_args must be a dict of the tool's arguments")
            payload["editedArgs"] = edited_args
        run_id = self.runtime.call(self._decide(interrupt_id, payload))
        return self._wait(run_id, timeout) if wait and run_id else None

    def reject(
        self, interrupt_id: str, *, wait: bool = True, timeout: float | None = None
    ) -> Turn | None:
        """Reject a waiting tool call (the model is told so and continues)."""
        run_id = self.runtime.call(self._decide(interrupt_id, {"approved": False}))
        return self._wait(run_id, timeout) if wait and run_id else None

    def stop(self) -> str | None:
        """Stop the running turn; its run id, or ``None`` when nothing runs."""
        run_id: str | None = self.runtime.call(self._service.cancel(self._session))
        return run_id

    def switch(self, session_id: str) -> None:
        """Continue another of the user's sessions (on this chat's document)."""
        self.runtime.call(self._switch(session_id))

    def new_session(self) -> str:
        """Start a new session; its id."""
        return str(self.runtime.call(self._new()))

    def archive(self, session_id: str | None = None) -> None:
        """Archive a session (default: this one, which is then replaced by a new one)."""
        self.runtime.call(self._archive(session_id or self.session_id))

    def close(self) -> None:
        """Stop feeding the panel (the session and its stream stay)."""
        if not self.runtime.closed:
            self.runtime.call(self._stop_pump())
        if self.viewer3d is not None:
            self.viewer3d.close()
        self.widget.close()

    def _wait(self, run_id: str, timeout: float | None) -> Turn:
        future = self.runtime.submit(self._wait_run(run_id))
        try:
            future.result(timeout)
        except KeyboardInterrupt:  # "interrupt the kernel" = Stop
            self.stop()
            future.result(60)
        return self.runtime.call(self._turn(run_id))

    # --- on the chat loop -----------------------------------------------------------------

    @property
    def _service(self) -> Any:
        return self.runtime.service

    async def _hydrate(self) -> dict[str, Any]:
        return dict(await self._service.hydrate(self.runtime.user_id, self._session))

    async def _list_sessions(self) -> list[Any]:
        return list(await self.runtime.sessions.list(self.runtime.user_id, self.context, 100))

    async def _send(self, text: str) -> str:
        body = agui.RunAgentInput(
            thread_id=self.session_id,
            run_id=f"run_{uuid.uuid4().hex}",
            messages=[agui.Message(id=f"user_{uuid.uuid4().hex}", role="user", content=text)],
        )
        return await self._start(body)

    async def _start(self, body: agui.RunAgentInput) -> str:
        from ..agent import ChatError

        try:
            started = await self._service.start(self.runtime.user_id, self._session, body)
        except ChatError as exc:
            raise ChatUsageError(exc.message) from None
        self._decisions = {}
        if self._kick is not None:
            self._kick.set()
        return str(started.run_id)

    async def _decide(self, interrupt_id: str, payload: dict[str, Any]) -> str | None:
        folded = await self._service.session_log(self._session)
        pending = folded.transcript.pending
        match = next((p for p in pending if interrupt_id in (p.interrupt_id, p.tool_call_id)), None)
        if match is None:
            waiting = ", ".join(p.interrupt_id for p in pending) or "none"
            raise ChatUsageError(f"{interrupt_id} does not wait for approval (waiting: {waiting})")
        self._decisions[match.interrupt_id] = agui.ResumeItem(
            interrupt_id=match.interrupt_id, payload=payload
        )
        if any(p.interrupt_id not in self._decisions for p in pending):
            return None  # the run resumes when every waiting call is answered
        body = agui.RunAgentInput(
            thread_id=self.session_id,
            run_id=f"run_{uuid.uuid4().hex}",
            parent_run_id=folded.transcript.last_run_id,
            resume=[self._decisions[p.interrupt_id] for p in pending],
        )
        return await self._start(body)

    async def _wait_run(self, run_id: str) -> None:
        live = self._service.live_run(self._session.id)
        if live is not None and live.run_id == run_id:
            await live.done.wait()

    async def _turn(self, run_id: str) -> Turn:
        folded = await self._service.session_log(self._session)
        run = folded.runs.get(run_id)
        turn = Turn(run_id, "running", document=self._document)
        if run is None:
            return turn
        texts: dict[str, list[str]] = {}
        roles: dict[str, str] = {}
        engine = self.runtime.engine
        for logged in await read_all(engine, chat_stream_path(self.session_id), run.start):
            data = logged.data
            kind = logged.type
            if kind == "TEXT_MESSAGE_START":
                roles[data["messageId"]] = data.get("role", "assistant")
            elif kind == "TEXT_MESSAGE_CONTENT" and roles.get(data["messageId"]) != "user":
                texts.setdefault(data["messageId"], []).append(data.get("delta", ""))
            elif kind == "TOOL_CALL_START":
                turn.tool_calls.append(str(data.get("toolCallName")))
            elif kind == "RUN_ERROR":
                turn.outcome, turn.error = "error", str(data.get("message"))
            elif kind == "RUN_FINISHED":
                outcome = data.get("outcome") or {}
                interrupts = outcome.get("interrupts") or []
                reason = ((data.get("metadata") or {}).get("solidtype") or {}).get("reason")
                if interrupts:
                    turn.outcome = "approval"
                    turn.interrupts = [_interrupt_summary(i) for i in interrupts]
                else:
                    turn.outcome = "cancelled" if reason == "cancelled" else "finished"
            if logged.terminal:
                break
        turn.text = "\n\n".join("".join(parts) for parts in texts.values()).strip()
        return turn

    # --- sessions ---------------------------------------------------------------------------

    async def _switch(self, session_id: str) -> None:
        session = await self.runtime.sessions.get(self.runtime.user_id, session_id)
        if session is None:
            raise ChatUsageError(f"no session {session_id} of user {self.runtime.user_id!r}")
        await self._stop_pump()
        self._bind(session)
        await self._start_pump(initial=True)

    async def _new(self) -> uuid.UUID:
        session = await self.runtime.sessions.create(self.runtime.user_id, self.context)
        await self._stop_pump()
        self._bind(session)
        await self._start_pump(initial=True)
        return session.id  # type: ignore[no-any-return]

    async def _archive(self, session_id: str) -> None:
        archived = await self.runtime.sessions.archive(self.runtime.user_id, session_id)
        if archived is None:
            raise ChatUsageError(f"no session {session_id} of user {self.runtime.user_id!r}")
        if str(archived.id) == self.session_id:
            await self._new()
        else:
            await self._post_sessions()

    # --- feeding the panel ------------------------------------------------------------------

    async def _start_pump(self, *, initial: bool) -> None:
        folded = await self._service.session_log(self._session)
        self._position = folded.position
        self._kick = asyncio.Event()
        self._heartbeat = NotebookAgentHeartbeat(
            self.runtime.heartbeats,
            self.runtime.user_id,
            str(self._session.id),
            str(self.document_path) if self.document_path is not None else None,
        )
        self._heartbeat.start()
        if initial:
            await self._post_reset(None)
            await self._post_sessions()
            self._schedule_view()
        self._pump = asyncio.ensure_future(self._run_pump())

    async def _stop_pump(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(BaseException):
                await self._pump
            self._pump = None
        if self._heartbeat is not None:
            await self._heartbeat.stop()
            self._heartbeat = None

    async def _run_pump(self) -> None:
        session = self._session
        while True:
            try:
                async for batch in self._service.follow(
                    session, self._position, until_terminal=False
                ):
                    if batch:
                        self._position = batch[-1].position
                        self._publish(session, batch)
                        if self._heartbeat is not None:
                            self._heartbeat.observe(batch)
                        await self._after_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the panel alive; the next kick retries
                log.exception("chat panel feed of session %s failed", session.id)
            assert self._kick is not None
            await self._kick.wait()
            self._kick.clear()

    def _publish(self, session: Any, batch: list[LoggedEvent]) -> None:
        self.widget.post_events(str(session.id), [{"o": e.offset, "e": e.data} for e in batch])

    async def _after_batch(self, batch: list[LoggedEvent]) -> None:
        changed = False
        for logged in batch:
            data = logged.data
            if logged.type == "TOOL_CALL_START":
                self._tool_names[data["toolCallId"]] = str(data.get("toolCallName"))
                self._tool_args[data["toolCallId"]] = []
            elif logged.type == "TOOL_CALL_ARGS":
                self._tool_args.setdefault(data["toolCallId"], []).append(data.get("delta", ""))
            elif logged.type == "TOOL_CALL_RESULT":
                changed = True
                call_id = data["toolCallId"]
                name = self._tool_names.pop(call_id, "")
                arguments = "".join(self._tool_args.pop(call_id, []))
                is_error = ((data.get("metadata") or {}).get("solidtype") or {}).get("isError")
                if not is_error:
                    selection = selection_of_call(name, arguments, str(data.get("content", "")))
                    if selection is not None:
                        self._selection = selection
                if name == "render_view":
                    await self._thumbnail(call_id)
            elif logged.type == "RUN_STARTED":
                self._selection = None
            elif logged.terminal:
                await self._post_sessions()
        if changed and self._document is not None:
            await self._save_document()
            self._schedule_view()

    async def _save_document(self) -> None:
        document = self._document
        if document is None or self.document_path is None:
            return
        revision = document.revision
        if revision != self._saved_revision:
            self._saved_revision = revision
            await asyncio.to_thread(document.save, self.document_path)

    def _schedule_view(self) -> None:
        if self._document is None:
            return
        if self._viewer is None or self._viewer.done():
            self._viewer = asyncio.ensure_future(self._update_view())

    async def _update_view(self) -> None:
        """Render the model when its revision changed (the latest one only)."""
        document = self._document
        assert document is not None
        while True:
            selection = self._selection
            revision = document.revision
            key = revision
            if selection is not None:
                refs = json.dumps([selection.kind, selection.body, selection.refs], default=str)
                key += ":" + hashlib.sha256(refs.encode()).hexdigest()[:12]
            if key == self._viewed_revision:
                return
            self._viewed_revision = key
            if not document.features:
                self.widget.post_view(None, key, "No model yet")
                continue
            if self.viewer3d is not None:
                await self._show_3d(document, selection)
                continue
            try:
                png, caption = await asyncio.to_thread(self._picture, document, selection)
            except Exception as exc:
                self.widget.post_view(None, key, f"No picture: {exc}")
                continue
            self.widget.post_view(png, key, caption)

    async def _show_3d(self, document: CadDocument, selection: Selection | None) -> None:
        viewer = self.viewer3d
        assert viewer is not None
        try:
            await asyncio.to_thread(self._show_in_viewer, viewer, document, selection)
        except Exception as exc:
            # The pictures still work where the 3D viewer does not: show them instead.
            log.warning("3D viewer failed, showing pictures instead", exc_info=True)
            self.viewer3d = None
            self.viewer = "png"
            self.widget.show_viewer = True
            self._viewed_revision = None
            self.widget.post_error(
                f"The 3D viewer failed ({exc}); the chat shows pictures of the model instead."
            )

    @staticmethod
    def _show_in_viewer(
        viewer: ModelViewer3D, document: CadDocument, selection: Selection | None
    ) -> None:
        """The model and the agent's selection in the 3D viewer (CPU work: off the loop)."""
        viewer.show(document, resolve(document, selection) if selection is not None else [])

    @staticmethod
    def _picture(document: CadDocument, selection: Selection | None) -> tuple[bytes, str]:
        """The model's picture (the agent's selection in its colour) and its caption."""
        caption = _caption(document.name, document.geometry())
        shapes = resolve(document, selection) if selection is not None else []
        if selection is not None and shapes:
            png = render_selection(document, shapes, selection.kind, "iso", *VIEW_SIZE)
            noun = selection.kind if len(shapes) > 1 else selection.kind[:-1]
            return png, f"{caption} · {len(shapes)} {noun} selected by the agent"
        return document.render("iso", *VIEW_SIZE), caption

    async def _thumbnail(self, tool_call_id: str) -> None:
        if self._document is None:
            return
        try:
            png = await asyncio.to_thread(self._document.render, "iso", *THUMBNAIL_SIZE)
        except Exception:
            return
        self.widget.post(
            "thumbnail", toolCallId=tool_call_id, png=base64.b64encode(png).decode("ascii")
        )

    async def _post_reset(self, view: str | None) -> None:
        """The newest page of the conversation, for one view (or all)."""
        folded = await self._service.session_log(self._session)
        messages = [m.to_wire() for m in folded.transcript.messages]
        first = max(0, len(messages) - PAGE_SIZE)
        live = self._service.live_run(self._session.id)
        hydrated = await self._hydrate()
        self.widget.post(
            "reset",
            view=view,
            session=self.session_id,
            messages=messages[first:],
            first=first,
            total=len(messages),
            offset=format_offset(folded.position) if folded.position else None,
            interrupts=hydrated["interrupts"],
            running=live is not None,
            model=self.model_label,
            demo=demo_description(self.model_label),
        )

    async def _post_page(self, view: str, before: int) -> None:
        folded = await self._service.session_log(self._session)
        messages = folded.transcript.messages
        before = min(before, len(messages))
        first = max(0, before - PAGE_SIZE)
        self.widget.post(
            "history",
            view=view,
            messages=[m.to_wire() for m in messages[first:before]],
            first=first,
        )

    async def _post_sessions(self) -> None:
        rows = await self._list_sessions()
        self.widget.post(
            "sessions",
            sessions=[_session_summary(s) for s in rows if s.status != ChatStatus.ARCHIVED],
            active=self.session_id,
        )

    # --- panel commands (kernel thread) -----------------------------------------------------

    def _on_command(self, command: Command) -> None:
        """Hand a panel command to the chat loop without waiting (the kernel stays free)."""
        if isinstance(command, Ready) and self.viewer3d is not None:
            # A page that restored the kernel's widgets has no 3D viewer (see
            # viewer3d._suspend_for_restore): it gets one now, then the model (Ready).
            try:
                self.viewer3d.resume()
            except Exception:  # the chat must come back even if the viewer cannot
                log.warning("could not reopen the 3D viewer", exc_info=True)
        future = self.runtime.submit(self._run_command(command))
        future.add_done_callback(self._report_failure)

    def _report_failure(self, future: Any) -> None:
        exc = future.exception() if not future.cancelled() else None
        if exc is None:
            return
        message = str(exc) if isinstance(exc, ChatUsageError) else f"{type(exc).__name__}: {exc}"
        self.widget.post_error(message, retry=False)

    async def _run_command(self, command: Command) -> None:
        if isinstance(command, Ready):
            await self._post_reset(command.view)
            await self._post_sessions()
            self._viewed_revision = None
            self._schedule_view()
        elif isinstance(command, More):
            await self._post_page(command.view, command.before)
        elif isinstance(command, Send):
            await self._send(command.text)
        elif isinstance(command, Approve):
            payload: dict[str, Any] = {"approved": True}
            if command.edited_args is not None:
                payload["editedArgs"] = command.edited_args
            await self._decide(command.interrupt_id, payload)
        elif isinstance(command, Reject):
            await self._decide(command.interrupt_id, {"approved": False})
        elif isinstance(command, Stop):
            await self._service.cancel(self._session)
        elif isinstance(command, Retry):
            await self._retry()
        elif isinstance(command, New):
            await self._new()
        elif isinstance(command, Switch):
            await self._switch(command.session)
        elif isinstance(command, Archive):
            await self._archive(command.session)

    async def _retry(self) -> None:
        """Send the last user message again (after a failed run)."""
        folded = await self._service.session_log(self._session)
        last = next(
            (m for m in reversed(folded.transcript.messages) if m.role == "user" and m.content),
            None,
        )
        if last is None or last.content is None:
            raise ChatUsageError("there is no message to retry")
        await self._send(last.content)


def _interrupt_summary(interrupt: dict[str, Any]) -> dict[str, Any]:
    meta = interrupt.get("metadata") or {}
    return {
        "id": interrupt.get("id"),
        "toolCallId": interrupt.get("toolCallId"),
        "toolName": meta.get("toolName"),
        "input": meta.get("input"),
    }


def _session_summary(session: Any) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "title": session.title,
        "messageCount": session.message_count,
        "status": str(session.status),
        "context": str(session.context),
        "updatedAt": session.updated_at.isoformat() if session.updated_at else None,
    }


def _viewer_name(document: CadDocument, path: Path | None) -> str:
    """What the 3D viewer's tab is called: the file's name (a document written with
    ``CadDocument()`` and saved as ``bracket.solid.json`` is still named "Untitled")."""
    if path is not None:
        return path.name.removesuffix(".json").removesuffix(".solid") or document.name
    return document.name or "Untitled"


def _agent_color(session: Any) -> str:
    """The colour the session's agent has as a collaborator (``presence``)."""
    return AgentIdentity.for_session(str(session.id), "viewer", "thread").color


def _caption(name: str, geometry: dict[str, Any]) -> str:
    volume = geometry.get("volume")
    parts = [name]
    if isinstance(volume, (int, float)):
        parts.append(f"volume {volume:,.1f} mm³")
    size = (geometry.get("bbox") or {}).get("size")
    if isinstance(size, list) and len(size) == 3:
        parts.append(" x ".join(f"{v:g}" for v in size) + " mm")
    return " · ".join(parts)

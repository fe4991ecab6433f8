"""Chat routes: AG-UI over SSE, resume, hydrate and stop (thin: the work is ``ChatService``).

- ``POST {base}solidtype/api/ai/chat``: an AG-UI ``RunAgentInput`` (``threadId`` = session
  id). Starts the turn and answers SSE from the stream: ``id: <offset>`` + one single-line
  ``data:`` per event, no ``event:`` lines, no ``[DONE]``, closed after ``RUN_FINISHED`` /
  ``RUN_ERROR``. With ``Last-Event-ID`` (the client's reconnect) it starts nothing and
  resumes after that offset; the same ``runId`` posted again follows that run.
- ``GET {base}solidtype/api/ai/chat?threadId=ID``: hydrate, ``{messages, activeRun,
  interrupts, offset}``; with ``offset`` (and optional ``runId``): SSE from that offset.
- ``GET {base}solidtype/api/ai/session/{id}``: hydrate; ``?offset=X&live=sse`` SSE from X;
  ``live=long-poll`` JSON ``{events, nextOffset, runActive}`` (waits for the first event);
  ``offset`` without ``live``: the stored events after X as JSON.
- ``GET {base}solidtype/api/ai/session/{id}?view=transcript[&before=N][&limit=M]``: one
  page of the conversation as stored messages (the newest ``limit``, default 100, before
  message ``before``), ``{messages, first, total, offset, interrupts, activeRun}``: what the
  side panel opens a session with, without sending a long history at once.
- ``POST {base}solidtype/api/ai/session/{id}/cancel``: stop the running turn (partial text is
  kept; the run ends with ``RUN_FINISHED``, reason ``cancelled``); 409 when none runs.

The user is always the server's identity; another user's session answers 404.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import iostream, web

from ..agent.chat_service import ChatError, ChatService, parse_position
from ..agent.event_log import LoggedEvent
from ..protocol import agui
from ..protocol.api import CancelAccepted, ChatHydrate, EventsPage, TranscriptPage
from ..streams import format_offset
from .base import SolidTypeAPIHandler
from .bodies import BoundedBodyMixin
from .documents import ContentsAccess

CHAT_ROUTE = "ai/chat"
TRANSCRIPT_PAGE = 100
MAX_TRANSCRIPT_PAGE = 500
SESSION_ROUTE = "ai/session"


class _ChatBase(SolidTypeAPIHandler):
    _sse_task: asyncio.Task[Any] | None = None

    @property
    def chat(self) -> ChatService:
        service = getattr(self.extensionapp, "chat", None)
        if service is None:
            raise web.HTTPError(503, "the chat service is not available")
        return service  # type: ignore[no-any-return]

    async def owned_session(self, raw_id: str | None) -> Any:
        if not raw_id:
            raise web.HTTPError(422, "threadId (the chat session id) is required")
        try:
            session_id = uuid.UUID(raw_id)
        except ValueError:
            raise web.HTTPError(404, f"no session {raw_id!r}") from None
        session = await self.sessions.get(self.username, session_id)
        if session is None:  # missing or another user's: the same answer
            raise web.HTTPError(404, f"no session {session_id}")
        return session

    @property
    def access(self) -> ContentsAccess:
        """The caller's file permissions, for the runs this request starts or finishes."""
        return ContentsAccess(self)

    def chat_error(self, exc: ChatError) -> None:
        self.set_status(exc.status)
        self.finish({"message": exc.message, **exc.details})

    def query(self, name: str) -> str | None:
        values = self.request.query_arguments.get(name)
        if not values:
            return None
        if len(values) != 1:
            raise web.HTTPError(400, f"query parameter {name!r} is given more than once")
        return values[0].decode("utf-8", "replace")

    async def send_sse(self, session: Any, position: int) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self._sse_task = asyncio.current_task()
        try:
            await self.flush()
            async for batch in self.chat.follow(session, position):
                self.write("".join(e.sse() for e in batch) if batch else ": keep-alive\n\n")
                await self.flush()
        except (iostream.StreamClosedError, asyncio.CancelledError):
            return  # the client left; the run goes on
        finally:
            self._sse_task = None
            if not self._finished:
                self.finish()

    def on_connection_close(self) -> None:
        # tornado's own ends the wait for a streamed body that will never arrive.
        super().on_connection_close()
        task = self._sse_task
        if task is not None and not task.done():
            task.cancel()

    async def hydrate(self, session: Any) -> None:
        hydrated = await self.chat.client_hydrate(self.username, session, self.access)
        self.write_json(ChatHydrate.model_validate(hydrated))

    async def resume_from(self, session: Any, offset: str) -> None:
        try:
            position = parse_position(offset)
        except ChatError as exc:
            self.chat_error(exc)
            return
        await self.chat.recover(self.username, session, self.access)
        await self.send_sse(session, position)


def _event_json(logged: LoggedEvent) -> dict[str, Any]:
    return {"offset": logged.offset, "event": logged.data}


@web.stream_request_body
class ChatHandler(BoundedBodyMixin, _ChatBase):
    """A body over ``max_chat_request_bytes`` is refused (413) as it arrives, never held
    whole in memory (``BoundedBodyMixin``)."""

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.current_user is not None:  # a stranger's body still stops at the limit
            self.limit_body()

    def max_body_bytes(self) -> int:
        return int(self.extensionapp.max_chat_request_bytes)  # type: ignore[attr-defined]

    def refuse_body(self, limit: int) -> None:
        self.set_status(413)
        self.finish(
            {
                "message": f"a chat request may have at most {limit} bytes "
                "(SolidTypeApp.max_chat_request_bytes)"
            }
        )

    def check_message_limits(self, body: agui.RunAgentInput) -> None:
        """413 for too many messages or a user message too long, before anything is
        stored or sent to the model (the server reads only the last message; the history
        comes from the stream)."""
        app = self.extensionapp
        most = int(app.max_messages_per_request)  # type: ignore[attr-defined]
        if len(body.messages) > most:
            raise web.HTTPError(
                413,
                f"the request has {len(body.messages)} messages; at most {most} are accepted "
                "(SolidTypeApp.max_messages_per_request). The server keeps the conversation: "
                "send only the new message",
            )
        longest = int(app.max_chat_message_chars)  # type: ignore[attr-defined]
        for message in body.messages:
            length = len(message.content or "")
            if length > longest:
                raise web.HTTPError(
                    413,
                    f"a message has {length} characters; a chat message may have at most "
                    f"{longest} (SolidTypeApp.max_chat_message_chars)",
                )

    @web.authenticated
    @authorized
    async def post(self) -> None:
        if self.body_refused:  # read and dropped: now the answer
            self.answer_refused()
            return
        self.request.body = self.received_body
        body = self.parse_body(agui.RunAgentInput)
        self.check_message_limits(body)
        session = await self.owned_session(body.thread_id)
        last_event_id = self.request.headers.get("Last-Event-ID")
        if last_event_id:
            await self.resume_from(session, last_event_id.strip())
            return
        try:
            started = await self.chat.start(self.username, session, body, self.access)
        except ChatError as exc:
            self.chat_error(exc)
            return
        await self.send_sse(session, started.position)

    @web.authenticated
    @authorized
    async def get(self) -> None:
        thread_id = self.query("threadId")
        offset = self.query("offset")
        run_id = self.query("runId")
        if thread_id is None and run_id is not None:
            session = await self.live_run_session(run_id)
        else:
            session = await self.owned_session(thread_id)
        if offset is None:
            await self.hydrate(session)
            return
        if offset == "-1" and run_id is not None:
            folded = await self.chat.session_log(session)
            run = folded.runs.get(run_id)
            if run is None:
                raise web.HTTPError(404, f"no run {run_id} in session {session.id}")
            offset = format_offset(run.start)
        await self.resume_from(session, offset)

    async def live_run_session(self, run_id: str) -> Any:
        """The caller's session whose run ``run_id`` is going. Another user's run gets the
        very answer of an unknown run: neither its existence nor its session id leaks."""
        for live in self.chat.live_runs():
            if live.run_id != run_id:
                continue
            session = await self.sessions.get(self.username, uuid.UUID(live.session_id))
            if session is not None:
                return session
        raise web.HTTPError(404, f"no run {run_id} is going; pass threadId")


class SessionChatHandler(_ChatBase):
    @web.authenticated
    @authorized
    async def get(self, raw_id: str) -> None:
        session = await self.owned_session(raw_id)
        view = self.query("view")
        if view is not None:
            if view != "transcript":
                raise web.HTTPError(422, "view must be `transcript`")
            await self.transcript_page(session)
            return
        offset = self.query("offset")
        live = self.query("live")
        if live not in (None, "sse", "long-poll"):
            raise web.HTTPError(422, "live must be `sse` or `long-poll`")
        if offset is None:
            if live is not None:
                raise web.HTTPError(422, "live needs an offset (-1: from the start)")
            await self.hydrate(session)
            return
        if live == "sse":
            await self.resume_from(session, offset)
            return
        try:
            position = parse_position(offset)
        except ChatError as exc:
            self.chat_error(exc)
            return
        await self.chat.recover(self.username, session, self.access)
        events: list[LoggedEvent] = []
        if live == "long-poll":
            async for batch in self.chat.follow(session, position, until_terminal=False):
                events = batch
                break
        else:
            events = await self.chat.events_after(session, position)
        next_position = events[-1].position if events else position
        self.write_json(
            EventsPage.model_validate(
                {
                    "events": [_event_json(e) for e in events],
                    "nextOffset": format_offset(next_position),
                    "runActive": self.chat.live_run(session.id) is not None,
                }
            )
        )

    async def transcript_page(self, session: Any) -> None:
        hydrated = await self.chat.hydrate(self.username, session, self.access)
        messages = hydrated["messages"]
        total = len(messages)
        before = self.int_query("before", total, 0, total)
        limit = self.int_query("limit", TRANSCRIPT_PAGE, 1, MAX_TRANSCRIPT_PAGE)
        first = max(0, before - limit)
        self.write_json(
            TranscriptPage.model_validate(
                {
                    "messages": messages[first:before],
                    "first": first,
                    "total": total,
                    "offset": hydrated["offset"],
                    "interrupts": hydrated["interrupts"],
                    "activeRun": hydrated["activeRun"],
                }
            )
        )

    def int_query(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.query(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(422, f"{name} must be an integer") from None
        if not low <= value <= high:
            raise web.HTTPError(422, f"{name} must be between {low} and {high}")
        return value


class CancelHandler(_ChatBase):
    @web.authenticated
    @authorized
    async def post(self, raw_id: str) -> None:
        session = await self.owned_session(raw_id)
        run_id = await self.chat.cancel(session)
        if run_id is None:
            self.set_status(409)
            self.finish(json.dumps({"message": f"no run is going in session {session.id}"}))
            return
        self.write_json(CancelAccepted(run_id=run_id, cancelled=True), status=202)


def chat_routes(api: str) -> list[tuple[str, type[Any]]]:
    """The patterns under ``api`` (``{prefix}/api``)."""
    session = f"{api}/{SESSION_ROUTE}/([^/]+)"
    return [
        (f"{api}/{CHAT_ROUTE}", ChatHandler),
        (session, SessionChatHandler),
        (f"{session}/cancel", CancelHandler),
    ]

"""``GET {base}solidtype/api/openapi.json``: the OpenAPI 3.1 description of the JSON API.

The schemas are generated from the same pydantic models the handlers validate with and answer
with, so the document cannot drift from the code; only the list of operations is written here.
Every route under ``{base}solidtype/api/`` is described except the agent WebSocket (not HTTP).
The Durable Streams routes (``{base}solidtype/v1/stream/{path}``) are left out: they are a
protocol of their own, with its own conformance suite (``make conformance``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from tornado import web

from .._version import __version__
from ..protocol.agui import RunAgentInput
from ..protocol.api import (
    CancelAccepted,
    ChatHydrate,
    DocumentTessellation,
    EventsPage,
    HealthResponse,
    TranscriptPage,
)
from ..protocol.sessions import (
    DOCUMENT_PATH_MAX_LENGTH,
    DOCUMENT_PATH_PATTERN,
    MAX_LIST_LIMIT,
    ChatContext,
    ChatMessageSchema,
    ChatSessionList,
    ChatSessionSchema,
    CreateChatSessionRequest,
    ErrorResponse,
    UpdateChatSessionRequest,
)
from .base import SolidTypeAPIHandler
from .chat import CHAT_ROUTE, MAX_TRANSCRIPT_PAGE, SESSION_ROUTE, TRANSCRIPT_PAGE
from .documents import DOCUMENTS_ROUTE
from .sessions import SESSIONS_ROUTE
from .tessellation import ANGULAR_TOLERANCE, DEVIATION, TESSELLATION_ROUTE

_MODELS: tuple[type[BaseModel], ...] = (
    ChatSessionSchema,
    ChatSessionList,
    ChatMessageSchema,
    CreateChatSessionRequest,
    UpdateChatSessionRequest,
    ErrorResponse,
    HealthResponse,
    RunAgentInput,
    ChatHydrate,
    TranscriptPage,
    EventsPage,
    CancelAccepted,
    DocumentTessellation,
)

_REASONS = {
    400: "Malformed request (e.g. a session id that is not a UUID, a bad offset)",
    403: "Not authenticated or not authorized",
    404: "No such session (or run, or document) among the caller's",
    409: "Conflicts with the session's state (a run is going, approvals wait, nothing runs)",
    413: "Over a configured size limit (`SolidTypeApp.max_*`); the message names it",
    422: "The request failed validation; `message` (and `errors`) say why",
    503: "A service of the extension is not available (rendering, the database at start-up)",
}

# One SSE event as OpenAPI 3.1 tools read ``text/event-stream`` (the schema describes each
# event): an ``id`` (the stream offset to resume after) and one line of JSON ``data``.
_SSE = {
    "text/event-stream": {
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "data": {"type": "string", "contentMediaType": "application/json"},
            },
        }
    }
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(ErrorResponse, _REASONS[status]) for status in statuses}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


_SESSION_ID = {
    "name": "session_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
_OFFSET = {"type": "string", "description": "a stream offset, or -1 for the start"}
_DOCUMENT_PATH = {
    "type": "string",
    "minLength": 1,
    "maxLength": DOCUMENT_PATH_MAX_LENGTH,
    "pattern": DOCUMENT_PATH_PATTERN,
}

_NEW_ID = "$response.body#/id"
#: What a client does next with a new session (OpenAPI links; Schemathesis follows them).
_LINKS: dict[str, Any] = {
    **{
        name: {"operationId": operation, "parameters": {"session_id": _NEW_ID}}
        for name, operation in [
            ("GetSession", "getChatSession"),
            ("UpdateSession", "updateChatSession"),
            ("ArchiveSession", "archiveChatSession"),
            ("DeleteSession", "deleteChatSession"),
            ("SessionEvents", "sessionEvents"),
            ("CancelRun", "cancelRun"),
        ]
    },
    "Hydrate": {"operationId": "chatHydrate", "parameters": {"threadId": _NEW_ID}},
    "ChatTurn": {
        "operationId": "chatTurn",
        "requestBody": {
            "threadId": f"{{{_NEW_ID}}}",
            "runId": "run-1",
            "messages": [{"role": "user", "content": "Hello"}],
        },
    },
}


def _session_paths() -> dict[str, Any]:
    sessions = f"/{SESSIONS_ROUTE}"
    one = f"{sessions}/{{session_id}}"
    return {
        sessions: {
            "get": {
                "operationId": "listChatSessions",
                "summary": "The caller's sessions, most recently updated first",
                "parameters": [
                    _query("context", {"type": "string", "enum": [c.value for c in ChatContext]}),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT, "default": 50},
                    ),
                ],
                "responses": {
                    "200": _json(ChatSessionList, "The sessions"),
                    **_errors(400, 403, 422),
                },
            },
            "post": {
                "operationId": "createChatSession",
                "summary": "Create a session owned by the caller",
                "requestBody": _body(CreateChatSessionRequest),
                "responses": {
                    "201": {**_json(ChatSessionSchema, "The new session"), "links": _LINKS},
                    **_errors(400, 403, 404, 422),
                },
            },
        },
        one: {
            "parameters": [_SESSION_ID],
            "get": {
                "operationId": "getChatSession",
                "responses": {
                    "200": _json(ChatSessionSchema, "The session"),
                    **_errors(400, 403, 404),
                },
            },
            "patch": {
                "operationId": "updateChatSession",
                "summary": "Rename, archive or re-activate",
                "requestBody": _body(UpdateChatSessionRequest),
                "responses": {
                    "200": _json(ChatSessionSchema, "The updated session"),
                    **_errors(400, 403, 404, 422),
                },
            },
            "delete": {
                "operationId": "deleteChatSession",
                "summary": "Delete the session and its durable stream (its messages)",
                "responses": {"204": {"description": "Deleted"}, **_errors(400, 403, 404)},
            },
        },
        f"{one}/archive": {
            "parameters": [_SESSION_ID],
            "post": {
                "operationId": "archiveChatSession",
                "responses": {
                    "200": _json(ChatSessionSchema, "The archived session"),
                    **_errors(400, 403, 404),
                },
            },
        },
    }


def _chat_paths() -> dict[str, Any]:
    session = f"/{SESSION_ROUTE}/{{session_id}}"
    return {
        f"/{CHAT_ROUTE}": {
            "post": {
                "operationId": "chatTurn",
                "summary": "A chat turn: an AG-UI RunAgentInput (threadId = session id)",
                "description": "Answers the run's events as SSE (`id: <offset>`, one `data:` "
                "JSON event per frame), closed after RUN_FINISHED or RUN_ERROR. With a "
                "`Last-Event-ID` header it starts nothing and resumes after that offset.",
                "parameters": [
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": _body(RunAgentInput),
                "responses": {
                    "200": {"description": "The run's events", "content": _SSE},
                    **_errors(400, 403, 404, 409, 413, 422, 503),
                },
            },
            "get": {
                "operationId": "chatHydrate",
                "summary": "Hydrate a session (TanStack ChatClient), or follow it as SSE",
                "description": "Without `offset`: the conversation as JSON. With `offset` "
                "(and `runId`): SSE after that offset. `runId` alone finds the caller's "
                "session whose run it is.",
                "parameters": [
                    _query("threadId", {"type": "string"}, "the session id"),
                    _query("offset", _OFFSET),
                    _query("runId", {"type": "string"}),
                ],
                "responses": {
                    "200": {
                        "description": "The conversation, or its events after `offset`",
                        "content": {
                            "application/json": {"schema": _ref(ChatHydrate)},
                            **_SSE,
                        },
                    },
                    **_errors(400, 403, 404, 422, 503),
                },
            },
        },
        session: {
            "parameters": [_SESSION_ID],
            "get": {
                "operationId": "sessionEvents",
                "summary": "Hydrate, stored events after an offset, a long-poll, SSE, or a "
                "page of the transcript",
                "parameters": [
                    _query("view", {"type": "string", "enum": ["transcript"]}),
                    _query(
                        "before",
                        {"type": "integer", "minimum": 0},
                        "transcript: the page ends before this message (at most the total)",
                    ),
                    _query(
                        "limit",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_TRANSCRIPT_PAGE,
                            "default": TRANSCRIPT_PAGE,
                        },
                    ),
                    _query("offset", _OFFSET),
                    _query("live", {"type": "string", "enum": ["sse", "long-poll"]}),
                ],
                "responses": {
                    "200": {
                        "description": "ChatHydrate (no offset), EventsPage (offset, "
                        "optionally live=long-poll), TranscriptPage (view=transcript) or SSE "
                        "(live=sse)",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        _ref(ChatHydrate),
                                        _ref(EventsPage),
                                        _ref(TranscriptPage),
                                    ]
                                }
                            },
                            **_SSE,
                        },
                    },
                    **_errors(400, 403, 404, 422, 503),
                },
            },
        },
        f"{session}/cancel": {
            "parameters": [_SESSION_ID],
            "post": {
                "operationId": "cancelRun",
                "summary": "Stop the running answer (partial text kept)",
                "responses": {
                    "202": _json(CancelAccepted, "The run is being stopped"),
                    **_errors(400, 403, 404, 409, 503),
                },
            },
        },
    }


def _document_paths() -> dict[str, Any]:
    from ..cad.render import VIEWS  # CadQuery: imported when the document is first asked for

    return {
        f"/{DOCUMENTS_ROUTE}": {
            "get": {
                "operationId": "renderDocument",
                "summary": "PNG of a *.solid.json document (by contents path, or the "
                "document of the caller's editor session)",
                "parameters": [
                    _query("path", {"type": "string"}, "contents path of a *.solid.json"),
                    _query("session", {"type": "string", "format": "uuid"}),
                    _query("view", {"type": "string", "enum": list(VIEWS), "default": "iso"}),
                    _query("width", {"type": "integer", "minimum": 16, "maximum": 2048}),
                    _query("height", {"type": "integer", "minimum": 16, "maximum": 2048}),
                ],
                "responses": {
                    "200": {
                        "description": "The picture",
                        "content": {"image/png": {"schema": {"type": "string"}}},
                    },
                    **_errors(400, 403, 404, 422, 503),
                },
            },
        },
        f"/{TESSELLATION_ROUTE}": {
            "get": {
                "operationId": "tessellateDocument",
                "summary": "Meshes of a *.solid.json document for the 3D view, with the "
                "reference of every face and edge",
                "description": "The live revision (the server's copy while an editor "
                "session has the document open). Strong `ETag` per revision and tolerances; "
                "`If-None-Match` answers 304. `Cache-Control: no-cache`. Gzip-encoded when "
                "the client accepts it.",
                "parameters": [
                    _query("path", _DOCUMENT_PATH, "contents path of a *.solid.json"),
                    _query(
                        "session",
                        {"type": "string", "format": "uuid"},
                        "instead of path: the document of the caller's editor session",
                    ),
                    _query(
                        "deviation",
                        {
                            "type": "number",
                            "minimum": DEVIATION[0],
                            "maximum": DEVIATION[1],
                            "default": 0.1,
                        },
                        "ocp-tessellate's relative deviation (three significant digits)",
                    ),
                    _query(
                        "angular_tolerance",
                        {
                            "type": "number",
                            "minimum": ANGULAR_TOLERANCE[0],
                            "maximum": ANGULAR_TOLERANCE[1],
                            "default": 0.2,
                        },
                        "radians (three significant digits)",
                    ),
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(DocumentTessellation, "The meshes and references"),
                    "304": {"description": "Not modified (the `If-None-Match` tag is current)"},
                    **_errors(400, 403, 404, 422, 503),
                },
            },
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The document without ``servers`` (which depends on the server's base URL)."""
    _, definitions = models_json_schema(
        [(model, "validation") for model in _MODELS],
        ref_template="#/components/schemas/{model}",
        by_alias=True,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "solidtype-jupyter API",
            "version": __version__,
            "description": "Chat sessions, chat turns, document pictures and meshes of the AI CAD "
            "assistant. Every operation acts as the authenticated Jupyter user; browser "
            "calls carry the `_xsrf` token. The Durable Streams routes "
            "(`{base}solidtype/v1/stream/{path}`) follow their own protocol and are not "
            "described here.",
        },
        "paths": {
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Version, database backend, whether a model is configured",
                    "responses": {
                        "200": _json(HealthResponse, "The extension is up"),
                        **_errors(403),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(403),
                    },
                }
            },
            **_session_paths(),
            **_chat_paths(),
            **_document_paths(),
        },
        "components": {"schemas": definitions["$defs"]},
    }


class OpenAPIHandler(SolidTypeAPIHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        document = dict(openapi_document())
        document["servers"] = [{"url": f"{self.base_url.rstrip('/')}/solidtype/api"}]
        self.write_json(document)

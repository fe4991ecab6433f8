"""``GET {base}solidtype/api/openapi.json``: the OpenAPI 3.1 description of the JSON API.

The schemas are generated from the same pydantic models the handlers validate with and answer
with, so the document cannot drift from the code; only the list of operations is written here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from tornado import web

from .._version import __version__
from ..protocol.sessions import (
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
from .sessions import SESSIONS_ROUTE

_MODELS: tuple[type[BaseModel], ...] = (
    ChatSessionSchema,
    ChatSessionList,
    ChatMessageSchema,
    CreateChatSessionRequest,
    UpdateChatSessionRequest,
    ErrorResponse,
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed request (e.g. a session id that is not a UUID)",
        403: "Not authenticated or not authorized",
        404: "No such session among the caller's sessions",
        422: "Request body or query string failed validation; `errors` lists why",
    }
    return {str(status): _json(ErrorResponse, reasons[status]) for status in statuses}


_SESSION_ID = {
    "name": "session_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


@cache
def openapi_document() -> dict[str, Any]:
    """The document without ``servers`` (which depends on the server's base URL)."""
    _, definitions = models_json_schema(
        [(model, "validation") for model in _MODELS],
        ref_template="#/components/schemas/{model}",
        by_alias=True,
    )
    sessions = f"/{SESSIONS_ROUTE}"
    one = f"{sessions}/{{session_id}}"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "solidtype-jupyter API",
            "version": __version__,
            "description": "Chat sessions of the AI CAD assistant. Every operation acts as "
            "the authenticated Jupyter user; browser calls carry the `_xsrf` token.",
        },
        "paths": {
            sessions: {
                "get": {
                    "operationId": "listChatSessions",
                    "summary": "The caller's sessions, most recently updated first",
                    "parameters": [
                        {
                            "name": "context",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": [c.value for c in ChatContext]},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIST_LIMIT,
                                "default": 50,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json(ChatSessionList, "The sessions"),
                        **_errors(400, 403, 422),
                    },
                },
                "post": {
                    "operationId": "createChatSession",
                    "summary": "Create a session owned by the caller",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(CreateChatSessionRequest)}},
                    },
                    "responses": {
                        "201": _json(ChatSessionSchema, "The new session"),
                        **_errors(403, 422),
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
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(UpdateChatSessionRequest)}},
                    },
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

"""The route table of the extension: every URL pattern and the handler that serves it."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from .agent_socket import AGENT_SOCKET_ROUTE, AgentSocketHandler
from .chat import chat_routes
from .documents import DOCUMENTS_ROUTE, DocumentRenderHandler
from .health import HealthHandler
from .mcp_http import MCP_ROUTE, McpHandler
from .openapi import OpenAPIHandler
from .sessions import session_routes
from .streams import STREAM_ROUTE, StreamHandler
from .tessellation import TESSELLATION_ROUTE, DocumentTessellationHandler


def route_table(prefix: str) -> list[tuple[str, type[Any]]]:
    """Patterns are relative to the server's base URL (jupyter_server prepends it)."""
    api = url_path_join(prefix, "api")
    return [
        (url_path_join(api, "health"), HealthHandler),
        (url_path_join(api, "openapi.json"), OpenAPIHandler),
        *session_routes(api),
        *chat_routes(api),
        (url_path_join(api, DOCUMENTS_ROUTE), DocumentRenderHandler),
        (url_path_join(api, TESSELLATION_ROUTE), DocumentTessellationHandler),
        (url_path_join(api, "ai", AGENT_SOCKET_ROUTE), AgentSocketHandler),
        (url_path_join(prefix, STREAM_ROUTE, "(.+)"), StreamHandler),
        (url_path_join(prefix, MCP_ROUTE), McpHandler),
    ]

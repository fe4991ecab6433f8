"""The MCP server over our tool registries, on the SDK's low-level ``Server``.

The low-level server, not ``MCPServer``: the tools are not Python functions to decorate but
registries whose schemas already exist, and which tools a connection sees changes when it
opens a document. Each request finds its connection's ``Workspace`` through
``workspace_of(ctx)`` (stdio: the process's one; HTTP: the MCP session's).
"""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError

from .._version import __version__
from ..cad import CadError
from .approvals import ApprovalPolicy, Verdict, approve
from .prompts import get_prompt, list_prompts
from .tools import call_result, error_result, mcp_tools
from .workspace import Workspace

log = logging.getLogger(__name__)

SERVER_NAME = "solidtype"
RESOURCE_SCHEME = "solidtype://documents/"
#: ``?as=`` of a document resource: what it reads (the default: the feature tree JSON).
RESOURCE_FORMATS = {
    "json": "application/json",
    "script": "text/x-python",
    "png": "image/png",
}
INSTRUCTIONS = (
    "SolidType: parametric CAD documents (*.solid.json, CadQuery). Build a part with "
    "create_sketch, add_rectangle/add_circle/..., extrude, fillet, hole; check it with "
    "get_geometry and render_view; undo reverts one tool call. Without a document open, "
    "call open_document(path) first."
)

WorkspaceOf = Callable[[ServerRequestContext[Any, Any]], Awaitable[Workspace]]


def document_uri(path: str, fmt: str = "json") -> str:
    uri = RESOURCE_SCHEME + quote(path, safe="/")
    return uri if fmt == "json" else f"{uri}?as={fmt}"


def parse_document_uri(uri: str) -> tuple[str, str]:
    """``(contents path, format)`` of a document resource URI; ``MCPError`` otherwise."""
    if not uri.startswith(RESOURCE_SCHEME):
        raise MCPError(types.INVALID_PARAMS, f"unknown resource {uri!r}")
    parts = urlsplit(uri)
    path = unquote(parts.netloc + parts.path).removeprefix("documents/")
    fmt = (parse_qs(parts.query).get("as") or ["json"])[0]
    if fmt not in RESOURCE_FORMATS or not path:
        raise MCPError(
            types.INVALID_PARAMS,
            f"a document resource is {RESOURCE_SCHEME}{{path}}[?as=json|script|png], got {uri!r}",
        )
    return path, fmt


def build_server(
    workspace_of: WorkspaceOf,
    *,
    approvals: ApprovalPolicy = "client",
    on_opened: Callable[[ServerRequestContext[Any, Any], Workspace], Awaitable[None]] | None = None,
) -> Server[Any]:
    """The MCP server; ``on_opened`` runs after a connection opened its document."""
    listed: dict[tuple[Any, ...], list[types.Tool]] = {}

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        workspace = await workspace_of(ctx)
        registry, levels = workspace.registry(), workspace.levels()
        # The registries are the process's own (``workspace._shared_editor``), their schemas
        # fixed: the list is built once per registry and approval levels, not per request.
        key = (id(registry), tuple(sorted(levels.items())))
        tools = listed.get(key)
        if tools is None:
            tools = listed[key] = mcp_tools(registry, levels)
        # ttl 0: the list changes when a document is opened, a cached one would be wrong.
        return types.ListToolsResult(tools=tools, ttl_ms=0)

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        workspace = await workspace_of(ctx)
        name, arguments = params.name, dict(params.arguments or {})
        if name in workspace.registry():
            verdict = await approve(ctx, params, workspace.level(name), approvals)
            if isinstance(verdict, types.InputRequiredResult):
                return verdict
            assert isinstance(verdict, Verdict)
            if not verdict.approved:
                return error_result(verdict.reason)
        opening = workspace.document_path is None and name == "open_document"
        result = await workspace.call(name, arguments)
        if opening and result.ok:
            if on_opened is not None:
                await on_opened(ctx, workspace)
            # Handshake-era clients hear it at once; 2026-07-28 clients relist (ttl 0).
            with contextlib.suppress(Exception):
                await ctx.session.send_tool_list_changed()
        return call_result(result)

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        workspace = await workspace_of(ctx)
        path = workspace.document_path
        resources = []
        if path is not None:
            resources = [
                types.Resource(
                    name=f"{path} ({fmt})",
                    uri=document_uri(path, fmt),
                    mime_type=mime,
                    description={
                        "json": "the document: parameters and feature tree (JSON)",
                        "script": "a standalone CadQuery script that rebuilds the part",
                        "png": "a picture of the part (isometric view)",
                    }[fmt],
                )
                for fmt, mime in RESOURCE_FORMATS.items()
            ]
        return types.ListResourcesResult(resources=resources, ttl_ms=0)

    async def list_templates(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    name="document",
                    uri_template=RESOURCE_SCHEME + "{+path}{?as}",
                    description="a *.solid.json document (path under the root folder); "
                    "as=json (default): the feature tree, as=script: the CadQuery script, "
                    "as=png: a picture",
                )
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        workspace = await workspace_of(ctx)
        uri = str(params.uri)
        path, fmt = parse_document_uri(uri)
        try:
            if fmt == "json":
                contents: Any = types.TextResourceContents(
                    uri=uri,
                    mime_type=RESOURCE_FORMATS[fmt],
                    text=await workspace.document_json(path),
                )
            elif fmt == "script":
                contents = types.TextResourceContents(
                    uri=uri,
                    mime_type=RESOURCE_FORMATS[fmt],
                    text=await workspace.document_script(path),
                )
            else:
                png = await workspace.document_png(path)
                contents = types.BlobResourceContents(
                    uri=uri, mime_type="image/png", blob=base64.b64encode(png).decode("ascii")
                )
        except (CadError, OSError, ValueError) as exc:
            message = getattr(exc, "strerror", None) or str(exc)
            raise MCPError(types.INVALID_PARAMS, f"{path}: {message}") from None
        return types.ReadResourceResult(contents=[contents])

    async def prompts(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=list_prompts())

    async def prompt(
        ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        found = get_prompt(params.name)
        if found is None:
            names = ", ".join(p.name for p in list_prompts())
            raise MCPError(types.INVALID_PARAMS, f"unknown prompt {params.name!r} ({names})")
        return found

    return Server(
        SERVER_NAME,
        version=__version__,
        title="SolidType CAD",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_list_prompts=prompts,
        on_get_prompt=prompt,
    )


def client_name(ctx: ServerRequestContext[Any, Any]) -> str:
    """The client's own name (``clientInfo``), for presence; "MCP client" when it gave none."""
    params = getattr(ctx.session, "client_params", None)
    info = getattr(params, "client_info", None)
    name = getattr(info, "title", None) or getattr(info, "name", None)
    if not name and ctx.meta:
        raw = ctx.meta.get(types.CLIENT_INFO_META_KEY)
        if isinstance(raw, dict):
            name = raw.get("title") or raw.get("name")
    text = str(name or "MCP client").strip()[:60]
    return text or "MCP client"

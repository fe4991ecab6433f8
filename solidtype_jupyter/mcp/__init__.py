"""The CAD tools over the Model Context Protocol, for other agents (Jupyter AI, Claude Code,
Claude Desktop, Cursor, ...), on the official ``mcp`` SDK.

Public API:
- ``build_server(workspace_of, approvals=..., on_opened=...)``: the SDK's low-level
  ``Server`` serving a connection's ``Workspace``: exactly the editor registry's tools
  (names, descriptions, input schemas; annotations from the approval levels), or with no
  document open the dashboard tools and ``open_document(path)``; documents as resources
  (``solidtype://documents/{path}[?as=json|script|png]``); the demo requests as prompts.
- ``Workspace`` (what a connection works on) and ``LocalWorkspace`` (files under a folder,
  tools run in this process: the stdio server's).
- ``ApprovalPolicy`` / ``APPROVAL_POLICIES`` (``elicit``, ``client``, ``auto``) and
  ``approve``: who approves ``confirm`` tools (see ``mcp.approvals``).
- ``mcp_tools(registry, levels)``, ``call_result(tool_result)``: the conversions.
- ``stdio.add_parser`` / ``stdio.serve_stdio``: ``solidtype-jupyter mcp``.

The HTTP transport inside jupyter_server is ``server.mcp_http`` (``{base}solidtype/mcp``).
"""

from .approvals import APPROVAL_POLICIES, ApprovalPolicy, approve
from .server import build_server, document_uri, parse_document_uri
from .tools import call_result, mcp_tools
from .workspace import LocalWorkspace, Workspace

__all__ = [
    "APPROVAL_POLICIES",
    "ApprovalPolicy",
    "LocalWorkspace",
    "Workspace",
    "approve",
    "build_server",
    "call_result",
    "document_uri",
    "mcp_tools",
    "parse_document_uri",
]

"""``solidtype-jupyter mcp``: the MCP server over stdio, for agents that start it themselves
(Claude Code, Claude Desktop, Cursor, Jupyter AI's ``mcp_settings.json``).

``--document PATH`` serves the editor tools on that ``*.solid.json`` (relative to ``--root``,
by default the current folder; created if missing, saved after every change). Without it the
dashboard tools (on the same database as the server: Jupyter config,
``SOLIDTYPE_DATABASE_URL``, or the embedded SQLite file) and ``open_document(path)`` are
served, then the editor tools on that document.
Nothing but MCP may go to stdout: logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path
from typing import Any

from .approvals import APPROVAL_POLICIES, ApprovalPolicy


def add_parser(commands: Any) -> None:
    mcp = commands.add_parser(
        "mcp",
        help="serve the CAD tools over MCP (stdio) to other agents",
        description="An MCP server on stdin/stdout: the CAD editor tools on one *.solid.json "
        "(--document), or the dashboard tools and open_document(path).",
    )
    mcp.add_argument(
        "--document",
        help="the *.solid.json to edit (relative to --root; created if missing)",
    )
    mcp.add_argument(
        "--root",
        help="the folder documents live in, none outside it (default: the current folder; "
        "for clients that start servers elsewhere, e.g. Claude Desktop)",
    )
    mcp.add_argument(
        "--approvals",
        choices=APPROVAL_POLICIES,
        default="client",
        help="who approves tools that change existing things: client (its own permission "
        "prompt; default), elicit (ask through MCP elicitation as well), auto (nobody)",
    )
    mcp.add_argument("--user", help="the user the catalog entries belong to (default: login)")
    mcp.add_argument("--database-url", help="database URL of the dashboard's catalog")
    mcp.set_defaults(func=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        return asyncio.run(serve_stdio(args))
    except KeyboardInterrupt:
        return 130


async def serve_stdio(args: argparse.Namespace) -> int:
    from mcp.server import NotificationOptions
    from mcp.server.stdio import stdio_server

    from ..cli import configured_app
    from .server import build_server
    from .workspace import LocalWorkspace

    user = args.user or getpass.getuser()
    # The server's own settings (its config files): the catalog's database and
    # approval_overrides apply here too.
    settings = await asyncio.to_thread(configured_app)
    policy: ApprovalPolicy = args.approvals
    root = Path(args.root).expanduser() if args.root else Path.cwd()  # noqa: ASYNC240
    if not await asyncio.to_thread(root.is_dir):
        print(f"error: --root: {root} is not a folder", file=sys.stderr)
        return 2
    database = None
    catalog = None
    if args.document is None:
        from ..store import CatalogRepository, ThreadedDatabase, ensure_schema
        from ..store.database import normalize_database_url

        url = normalize_database_url(args.database_url or str(settings.database_url))
        await asyncio.to_thread(ensure_schema, url)
        database = ThreadedDatabase(url)
        catalog = CatalogRepository(database)
    workspace = LocalWorkspace(
        root, user_id=user, catalog=catalog, overrides=dict(settings.approval_overrides)
    )
    if args.document is not None:
        opened = await workspace.open(args.document)
        if not opened.ok:
            assert opened.error is not None
            print(f"error: --document: {opened.error.message}", file=sys.stderr)
            return 2

    async def workspace_of(ctx: Any) -> LocalWorkspace:
        return workspace

    server = build_server(workspace_of, approvals=policy)
    options = server.create_initialization_options(NotificationOptions(tools_changed=True))
    try:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, options)
    finally:
        await workspace.close()
        if database is not None:
            await asyncio.to_thread(database.close)
    return 0

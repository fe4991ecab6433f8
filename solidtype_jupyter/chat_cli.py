"""``solidtype-jupyter chat "..."``: the chat in a terminal, on the same ``ChatService`` code.

It runs in this process on the configured database (the same sessions and streams the server
uses), streams the answer's text, shows each tool call and its result as one line, and asks
for approvals on stdin (y/N). Ctrl-C stops the running answer (the partial text is kept).
The session id is printed so ``--session`` can continue the conversation later; the user is
``--user`` (default: the login name), who must own that session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import shlex
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from .protocol import agui


def add_parser(commands: Any) -> None:
    chat = commands.add_parser(
        "chat",
        help="chat with the CAD assistant in the terminal",
        description="Send one message and stream the answer; approvals are asked on stdin.",
    )
    chat.add_argument("message", help="what to ask")
    chat.add_argument("--session", help="continue this session (its id) instead of a new one")
    chat.add_argument(
        "--model",
        help="provider:model, e.g. anthropic:claude-sonnet or scripted:quickstart "
        "(default: c.SolidTypeApp.model / $SOLIDTYPE_MODEL)",
    )
    chat.add_argument(
        "--context",
        choices=("dashboard", "editor"),
        default="dashboard",
        help="the context of a new session (default dashboard)",
    )
    chat.add_argument(
        "--document",
        help="a new editor session works on this *.solid.json (relative to the current "
        "directory; created empty if missing)",
    )
    chat.add_argument("--user", help="the user the session belongs to (default: login name)")
    chat.add_argument("--database-url", help="database URL (default: as for the server)")
    chat.add_argument("--yes", action="store_true", help="approve every tool call without asking")
    chat.set_defaults(func=run_chat)


def _configured(args: argparse.Namespace) -> tuple[str, str]:
    """(database URL, model setting) as the server would read them, overridden by args."""
    from jupyter_core.application import JupyterApp

    from .server.extension import SolidTypeApp

    class _ConfigReader(JupyterApp):
        name = "solidtype-jupyter"
        config_file_name = "jupyter_server_config"

    reader = _ConfigReader()
    reader.load_config_file()
    app = SolidTypeApp(config=reader.config)
    return args.database_url or str(app.database_url), args.model or str(app.model)


def run_chat(args: argparse.Namespace) -> int:
    return asyncio.run(_chat(args, sys.stdin, sys.stdout))


async def _chat(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from .agent import ChatError, ChatService, InProcessAgent
    from .llm import create_adapter, resolve_model
    from .llm.factory import HOW_TO_CONFIGURE_TERMINAL
    from .llm.model_choice import DEMO_NOTICE, is_demo
    from .store import (
        CatalogRepository,
        ChatSessionRepository,
        ThreadedDatabase,
        ensure_schema,
        normalize_database_url,
    )
    from .streams import open_engine

    database_url, model_setting = _configured(args)
    url = normalize_database_url(database_url)
    choice = resolve_model(model_setting, os.environ)
    await asyncio.to_thread(ensure_schema, url)
    engine = open_engine(url)
    await engine.start()
    database = ThreadedDatabase(url)
    user = args.user or getpass.getuser()

    async def started_engine() -> Any:
        return engine

    sessions = ChatSessionRepository(
        database, delete_stream=lambda path: engine.delete(path, missing_ok=True)
    )
    catalog = CatalogRepository(database)
    root = Path.cwd()
    service = ChatService(
        started_engine,
        sessions,
        InProcessAgent(
            # Without a model the chat says how to choose one here, not on a Jupyter server.
            lambda: create_adapter(choice, os.environ, how_to_configure=HOW_TO_CONFIGURE_TERMINAL),
            catalog=catalog,
            root_dir=root,
        ),
        catalog=catalog,
        root_dir=root,
    )
    try:
        if args.session:
            session = await sessions.get(user, args.session)
            if session is None:
                print(f"error: {user} has no session {args.session}", file=sys.stderr)
                return 2
        elif args.document:
            document = await _register_document(catalog, user, root, args.document)
            session = await sessions.create(user, "editor", document_id=document.id)
        else:
            session = await sessions.create(user, args.context)
        print(f"session {session.id} ({session.context})", file=out, flush=True)
        document = (
            await catalog.get_document(user, session.document_id) if session.document_id else None
        )
        if is_demo(choice):  # on stderr: the conversation on stdout stays the answer alone
            print(f"Recorded demo ({model_setting}): {DEMO_NOTICE}", file=sys.stderr, flush=True)
        body = agui.RunAgentInput(
            thread_id=str(session.id),
            run_id=f"run-{uuid.uuid4().hex}",
            messages=[
                agui.Message(id=f"user-{uuid.uuid4().hex}", role="user", content=args.message)
            ],
        )
        while True:
            try:
                started = await service.start(user, session, body)
            except ChatError as exc:
                print(f"error: {exc.message}", file=sys.stderr)
                return 2
            finished = await _show(service, session, started.position, out)
            if isinstance(finished, agui.RunError):
                return 1
            if finished is None or finished.outcome is None:
                reason = ((finished.metadata or {}).get("solidtype") or {}) if finished else {}
                if reason.get("reason") == "model_not_configured":
                    return 1  # the answer said how to choose a model; nothing was done
                if document is not None:  # on stderr, as the demo banner: stdout is the chat
                    print(_export_hint(document.path), file=sys.stderr, flush=True)
                return 0
            answers = []
            for interrupt in finished.outcome.interrupts:
                approved = args.yes or await _ask(interrupt, stdin, out)
                answers.append(
                    agui.ResumeItem(interrupt_id=interrupt.id, payload={"approved": approved})
                )
            body = agui.RunAgentInput(
                thread_id=str(session.id),
                run_id=f"run-{uuid.uuid4().hex}",
                parent_run_id=finished.run_id,
                resume=answers,
            )
    finally:
        await service.close()
        await engine.close()
        await asyncio.to_thread(database.close)


def _export_hint(path: str) -> str:
    """The terminal's way to the result (``chat.to_script()`` is the notebook's)."""
    quoted = shlex.quote(path)
    return (
        f"The part is saved in {path}. `solidtype-jupyter export {quoted}` prints it as a "
        f"standalone CadQuery script; `solidtype-jupyter export {quoted} --format step` "
        "(or stl) writes a CAD file."
    )


async def _register_document(catalog: Any, user: str, root: Path, name: str) -> Any:
    relative = await asyncio.to_thread(_document_file, root, name)
    return await catalog.register_document(user, relative)


def _document_file(root: Path, name: str) -> str:
    """``name`` as a path relative to ``root``, the file created empty if missing."""
    from .cad import CadDocument

    base = root.resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base) or not path.name.endswith(".solid.json"):
        raise ValueError(f"--document must be a *.solid.json under {base}, got {name!r}")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        CadDocument(path.name.removesuffix(".solid.json")).save(path)
    return path.relative_to(base).as_posix()


async def _show(
    service: Any, session: Any, position: int, out: TextIO
) -> agui.RunFinished | agui.RunError | None:
    """Print the run's events as they are stored; Ctrl-C stops the run (not the printing)."""
    loop = asyncio.get_running_loop()
    stop = lambda: asyncio.ensure_future(service.cancel(session))  # noqa: E731
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(2, stop)  # SIGINT
    names: dict[str, str] = {}
    args: dict[str, list[str]] = {}
    in_text = False
    try:
        async for batch in service.follow(session, position):
            for logged in batch:
                event = logged.event()
                if isinstance(event, agui.TextMessageContent):
                    out.write(event.delta)
                    in_text = True
                elif isinstance(event, agui.TextMessageEnd) and in_text:
                    out.write("\n")
                    in_text = False
                elif isinstance(event, agui.ToolCallStart):
                    names[event.tool_call_id] = event.tool_call_name
                    args[event.tool_call_id] = []
                elif isinstance(event, agui.ToolCallArgs):
                    args.setdefault(event.tool_call_id, []).append(event.delta)
                elif isinstance(event, agui.ToolCallEnd):
                    call = "".join(args.get(event.tool_call_id, [])) or "{}"
                    out.write(f"[tool] {names.get(event.tool_call_id, '?')} {call}\n")
                elif isinstance(event, agui.ToolCallResult):
                    error = ((event.metadata or {}).get("solidtype") or {}).get("isError")
                    out.write(f"[{'error' if error else 'result'}] {_short(event.content)}\n")
                elif isinstance(event, agui.Custom) and event.name == agui.NOTICE_EVENT:
                    message = (event.value or {}).get("message", "")
                    if message and (event.value or {}).get("kind") != "model_not_configured":
                        out.write(f"[notice] {message}\n")
                elif isinstance(event, agui.RunError):
                    out.write(f"\nerror: {event.message}\n")
                    out.flush()
                    return event
                elif isinstance(event, agui.RunFinished):
                    reason = ((event.metadata or {}).get("solidtype") or {}).get("reason")
                    if reason == "cancelled":
                        out.write("\n[stopped]\n")
                    out.flush()
                    return event
            out.flush()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(2)
    return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def _ask(interrupt: agui.Interrupt, stdin: TextIO, out: TextIO) -> bool:
    meta = interrupt.metadata or {}
    call = json.dumps(meta.get("input", {}), ensure_ascii=False)
    out.write(f"Approve {meta.get('toolName', '?')} {call}? [y/N] ")
    out.flush()
    line = await asyncio.to_thread(stdin.readline)
    return line.strip().lower() in ("y", "yes")

"""``%ai_chat`` / ``%%ai_chat``: the chat panel in a notebook (``%load_ext solidtype_jupyter``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display as _display

from ..llm import LoopConfig
from .chat import Chat, ChatUsageError
from .viewer3d import available as viewer3d_available

# IPython's helpers are untyped; these names give them a type for mypy.
_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
argument: Callable[..., _Decorator] = _magic_arguments.argument
magic_arguments: Callable[..., _Decorator] = _magic_arguments.magic_arguments
parse_argstring: Any = _magic_arguments.parse_argstring
display: Any = _display


def _model(setting: str | None) -> tuple[Any, str]:
    """(adapter factory, label) for ``--model`` or, without it, the ``model`` setting."""
    from ..llm import create_adapter, resolve_model
    from ..llm.factory import HOW_TO_CONFIGURE_KERNEL

    if setting is None:
        setting = _configured().model
    try:
        choice = resolve_model(setting or "", os.environ)
    except ValueError as exc:
        raise UsageError(f"--model: {exc}") from None
    label = f"{choice.provider}:{choice.name}" if choice is not None else "no model configured"
    # Without a model the chat says how to choose one from this notebook, not the server.
    return (
        lambda: create_adapter(choice, os.environ, how_to_configure=HOW_TO_CONFIGURE_KERNEL)
    ), label


def _configured() -> Any:
    from ..cli import configured_app

    try:
        return configured_app()
    except Exception as exc:  # a bad value in the Jupyter config or the environment
        raise UsageError(f"the solidtype configuration is invalid: {exc}") from None


def _document(path_text: str | None, context: str) -> tuple[Any, Path | None]:
    from ..cad import CadDocument, CadError

    if context == "dashboard":
        if path_text:
            raise UsageError("a DOCUMENT needs --context editor (the dashboard has none)")
        return None, None
    if not path_text:
        return CadDocument("Untitled"), None
    path = Path(path_text).expanduser()
    if path.is_dir():
        raise UsageError(f"{path} is a directory; DOCUMENT is a *.solid.json file")
    if path.exists() and path.stat().st_size > 0:
        try:
            return CadDocument.load(path), path.resolve()
        except (CadError, ValueError, OSError) as exc:
            raise UsageError(f"cannot open {path}: {exc}") from None
    name = path.name.removesuffix(".json").removesuffix(".solid") or "Untitled"
    if not path.parent.exists():
        raise UsageError(f"the folder {path.parent} does not exist")
    return CadDocument(name), path.resolve()


@magics_class
class AIChatMagics(Magics):
    """The ``%ai_chat`` magics; one chat per document and context is kept for the kernel."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.chats: dict[tuple[str, str, str], Chat] = {}
        self.current: Chat | None = None

    @magic_arguments()
    @argument(
        "document",
        nargs="?",
        metavar="DOCUMENT",
        help="a *.solid.json CAD document to edit (created on the first change if missing; "
        "saved after every change). Default: a new in-memory document, `chat.document`.",
    )
    @argument(
        "--model",
        metavar="M",
        help="the chat model as provider:model: anthropic:claude-sonnet, "
        "openai-compatible:<model> (OPENAI_BASE_URL, OPENAI_API_KEY), scripted:quickstart "
        "(the scripted demo, no key) or scripted:/path/to/turns.jsonl. Default: the `model` "
        "setting (c.SolidTypeApp.model or SOLIDTYPE_MODEL); without one and without "
        "ANTHROPIC_API_KEY the chat explains how to configure a model.",
    )
    @argument(
        "--session",
        metavar="ID",
        help="continue this session (one of yours, e.g. started in the side panel).",
    )
    @argument(
        "--new",
        action="store_true",
        help="start a new session (default: the session this kernel last used for the "
        "same DOCUMENT and context, else a new one).",
    )
    @argument(
        "--context",
        choices=("editor", "dashboard"),
        default="editor",
        help="editor (default): CAD tools on the document; dashboard: workspaces, projects "
        "and documents.",
    )
    @argument(
        "--viewer",
        choices=("3d", "png", "none"),
        default=None,
        help="where the model shows: 3d (default), jupyter-cadquery's interactive viewer in "
        "JupyterLab's right panel; png, a picture in the chat panel (for front ends "
        "without JupyterLab widgets); none.",
    )
    @line_cell_magic
    def ai_chat(self, line: str, cell: str | None = None) -> Any:
        """Chat with the AI CAD agent; the model shows in a 3D viewer beside the panel.

        ``%ai_chat [DOCUMENT] [--model M] [--session ID | --new] [--context editor|dashboard]
        [--viewer 3d|png|none]`` shows the panel and returns a ``Chat``: ``chat.send("...")``,
        ``chat.messages``, ``chat.document``, ``chat.shape`` (CadQuery), ``chat.to_script()``,
        ``chat.sessions()``, ``chat.approve(id)``, ``chat.reject(id)``, ``chat.stop()``.

        ``%%ai_chat [options]`` sends the cell's text as a message (to the chat of the
        options, the current one when none are given) and returns the ``Turn``.

        The agent runs in this kernel, on the same database as the Jupyter server (its
        sessions are listed in the side panel). Interrupting the kernel stops a
        ``chat.send`` that is waiting for an answer; the panel's Stop button works at any
        time.
        """
        args = parse_argstring(self.ai_chat, line)
        if args.session and args.new:
            raise UsageError("use either --session ID or --new, not both")
        if cell is not None:
            if not cell.strip():
                raise UsageError("%%ai_chat sends the cell's text: the cell is empty")
            chat = self.current if not line.strip() and self.current is not None else None
            if chat is None:
                chat = self._open(args)
            try:
                return chat.send(cell)
            except ChatUsageError as exc:
                raise UsageError(str(exc)) from None
        return self._open(args)

    def _open(self, args: Any) -> Chat:
        from .runtime import shared_runtime

        document, path = _document(args.document, args.context)
        model, label = _model(args.model)
        configured = _configured()
        database_url = str(configured.database_url)
        try:
            runtime = shared_runtime(database_url)
        except Exception as exc:
            raise UsageError(f"cannot open the chat database {database_url}: {exc}") from None
        runtime.agent.loop_config = LoopConfig(
            approval_overrides=configured.approval_overrides,
            tool_timeout=configured.tool_timeout or None,
        )
        key = (database_url, str(path or ""), args.context)
        previous = self.chats.pop(key, None)
        if previous is not None and previous.runtime is not runtime:
            previous = None  # its runtime was closed
        session_id = args.session
        if previous is not None:
            if not args.new and session_id is None:
                session_id = previous.session_id  # re-running the cell continues the chat
                if path is None:
                    document = previous.document  # and keeps the kernel's in-memory model
            previous.close()
        try:
            chat = Chat.open(
                runtime,
                model=model,
                model_label=label,
                document=document,
                document_path=path,
                context=args.context,
                session_id=session_id,
                viewer=args.viewer or ("3d" if viewer3d_available() else "png"),
            )
        except ChatUsageError as exc:
            raise UsageError(str(exc)) from None
        self.chats[key] = chat
        self.current = chat
        display(chat.widget)
        chat.shown_in = self.shell.execution_count if self.shell is not None else None
        return chat


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(AIChatMagics)


def unload_ipython_extension(ipython: Any) -> None:
    from .runtime import close_runtimes

    close_runtimes()

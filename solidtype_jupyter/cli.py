"""The ``solidtype-jupyter`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from ._version import __version__


def configured_app() -> Any:
    """``SolidTypeApp`` configured as the server would be (jupyter_server config files, then
    the environment, then the defaults), for the CLI and for kernels (``%ai_chat``)."""
    from jupyter_core.application import JupyterApp

    from .server.extension import SolidTypeApp

    class _ConfigReader(JupyterApp):
        # Reads the same jupyter_server_config.{py,json} files the server reads.
        name = "solidtype-jupyter"
        config_file_name = "jupyter_server_config"

    reader = _ConfigReader()
    reader.load_config_file()
    return SolidTypeApp(config=reader.config)


def _configured_database_url() -> str:
    """The URL the server would use: jupyter_server config files, env, embedded default."""
    return str(configured_app().database_url)


def _db_upgrade(args: argparse.Namespace) -> int:
    from .store.database import backend_name, normalize_database_url, upgrade_schema

    url = normalize_database_url(args.database_url or _configured_database_url())
    print(f"Upgrading the {backend_name(url)} database schema ...", flush=True)
    status = upgrade_schema(url)
    print(f"Schema at {', '.join(status.current)} (up to date).")
    return 0


def _db_status(args: argparse.Namespace) -> int:
    from .store.database import backend_name, normalize_database_url, schema_status

    url = normalize_database_url(args.database_url or _configured_database_url())
    status = schema_status(url)
    state = "up to date" if status.up_to_date else "behind: run `solidtype-jupyter db upgrade`"
    print(
        f"{backend_name(url)} schema: at {', '.join(status.current) or 'nothing'}, "
        f"latest {', '.join(status.heads)}; {state}"
    )
    return 0 if status.up_to_date else 1


def _export(args: argparse.Namespace) -> int:
    """A ``*.solid.json`` as a standalone CadQuery script (stdout by default) or STEP/STL."""
    from pathlib import Path

    from .cad import CadDocument, CadError

    try:
        data = CadDocument.load(args.document).export(args.format)
    except CadError as exc:  # no such file, not a document, nothing to export yet
        message = str(exc)
        if Path(args.document).name not in message:
            message = f"{args.document}: {message}"
        raise ValueError(message) from None
    output = args.output or ("-" if args.format == "script" else None)
    if output is None:
        name = Path(args.document).name.removesuffix(".solid.json")
        output = str(Path(args.document).with_name(f"{name}.{args.format}"))
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(output).write_bytes(data)
        print(f"wrote {output} ({len(data)} bytes)")
    return 0


def _streams_serve(args: argparse.Namespace) -> int:
    import contextlib

    from .server.streams import standalone_app
    from .store.database import backend_name, ensure_schema, normalize_database_url
    from .streams import open_engine

    loop_name, run = _event_loop_runner(args.event_loop)
    if args.database_url in ("memory", "memory://"):
        url = "memory://"
    else:
        url = normalize_database_url(args.database_url or _configured_database_url())
        ensure_schema(url)

    async def serve() -> None:
        from .heap import freeze_startup_heap

        engine = open_engine(url, writer=args.writer, long_poll_timeout=args.long_poll_timeout)
        await engine.start()
        app = standalone_app(engine, sse_reconnect=args.sse_reconnect)
        server = app.listen(args.port, address=args.host, max_body_size=args.max_body_size)
        freeze_startup_heap()  # as the extension does (solidtype_jupyter/heap.py)
        backend = "memory" if url == "memory://" else backend_name(url)
        print(
            f"Durable Streams ({backend}, {loop_name}) at "
            f"http://{args.host}:{args.port}/v1/stream/ (no authentication)",
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            server.stop()
            await engine.close()

    with contextlib.suppress(KeyboardInterrupt):
        run(serve())
    return 0


def _event_loop_runner(choice: str) -> tuple[str, Callable[[Coroutine[Any, Any, None]], None]]:
    """``asyncio.run`` or uvloop's: ``auto`` takes uvloop where it is installed (it is a
    dependency on Linux and macOS). For ``streams serve`` its loop, written in C on libuv,
    measured 5-25% more appends/s than asyncio's own and a lower live latency (BENCHMARKS.md,
    Durable Streams). The server extension runs on jupyter_server's loop, unaffected."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise ValueError("--event-loop uvloop: uvloop is not installed") from None
        else:
            return "uvloop", uvloop.run
    return "asyncio", asyncio.run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="solidtype-jupyter",
        description="SolidType AI CAD assistant for Jupyter: administration commands.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    db = commands.add_parser("db", help="database schema: upgrade, status")
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    for name, func, text in (
        ("upgrade", _db_upgrade, "apply every pending migration"),
        ("status", _db_status, "show whether the schema is current (exit 1 if behind)"),
    ):
        sub = db_commands.add_parser(name, help=text, description=text)
        sub.add_argument(
            "--database-url",
            help="database URL (default: c.SolidTypeApp.database_url from the Jupyter "
            "config, else $SOLIDTYPE_DATABASE_URL, else the embedded SQLite file)",
        )
        sub.set_defaults(func=func)

    streams = commands.add_parser("streams", help="durable streams: serve")
    streams_commands = streams.add_subparsers(
        dest="streams_command", metavar="STREAMS_COMMAND", required=True
    )
    serve = streams_commands.add_parser(
        "serve",
        help="serve the durable streams over HTTP without authentication",
        description="Serve /v1/stream/{path} from the solidtype database with NO "
        "authentication (for local tools, benchmarks and the conformance suite). Anyone "
        "who can reach the address can read, write and delete every stream.",
    )
    serve.add_argument("--port", type=int, default=4437, help="TCP port (default 4437)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback)"
    )
    serve.add_argument(
        "--database-url",
        help="database URL (default: as for the server); `memory://` keeps streams in memory",
    )
    serve.add_argument(
        "--long-poll-timeout",
        type=float,
        default=30.0,
        help="seconds a long-poll waits before answering 204 (default 30)",
    )
    serve.add_argument(
        "--writer",
        choices=("auto", "thread", "process"),
        default="auto",
        help="where write transactions run (default auto: a child process on PostgreSQL, "
        "a thread on SQLite; as the extension's stream_writer)",
    )
    serve.add_argument(
        "--event-loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="the asyncio event loop (default auto: uvloop where installed, else asyncio's)",
    )
    serve.add_argument(
        "--sse-reconnect",
        type=float,
        default=60.0,
        help="seconds after which an SSE read ends so the client reconnects (default 60)",
    )
    serve.add_argument(
        "--max-body-size",
        type=int,
        default=64 * 1024 * 1024,
        help="largest accepted request body in bytes (default 64 MiB)",
    )
    serve.set_defaults(func=_streams_serve)

    export = commands.add_parser(
        "export",
        help="a *.solid.json as a CadQuery script, STEP or STL",
        description="Export a CAD document (a *.solid.json) as a standalone CadQuery script "
        "that rebuilds it without SolidType, or as a STEP or STL file.",
    )
    export.add_argument("document", help="the *.solid.json file")
    export.add_argument(
        "--format",
        choices=("script", "step", "stl"),
        default="script",
        help="default script",
    )
    export.add_argument(
        "-o",
        "--output",
        help="where to write it, `-` for stdout (default: stdout for a script, else the "
        "document's name with .step/.stl beside it)",
    )
    export.set_defaults(func=_export)

    from .chat_cli import add_parser as add_chat_parser

    add_chat_parser(commands)
    from .evals.cli import add_parser as add_eval_parser

    add_eval_parser(commands)
    from .mcp.stdio import add_parser as add_mcp_parser

    add_mcp_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except ValueError as exc:
        print(f"solidtype-jupyter: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""The ``solidtype-jupyter`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__


def _configured_database_url() -> str:
    """The URL the server would use: jupyter_server config files, env, embedded default."""
    from jupyter_core.application import JupyterApp

    from .server.extension import SolidTypeApp

    class _ConfigReader(JupyterApp):
        # Reads the same jupyter_server_config.{py,json} files the server reads.
        name = "solidtype-jupyter"
        config_file_name = "jupyter_server_config"

    reader = _ConfigReader()
    reader.load_config_file()
    return str(SolidTypeApp(config=reader.config).database_url)


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

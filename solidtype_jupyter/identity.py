"""Who owns the sessions of a process that has no login of its own: a kernel, the CLI, and a
single-user server's token or password logins (which carry no user name)."""

from __future__ import annotations

import getpass
import os


def local_user() -> str:
    """``SOLIDTYPE_USER``, else JupyterHub's user, else the operating-system account."""
    for name in ("SOLIDTYPE_USER", "JUPYTERHUB_USER"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return "jovyan"

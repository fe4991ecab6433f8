"""solidtype-jupyter: an AI CAD assistant for CadQuery models, by chat, inside Jupyter.

Public API of the top-level package:

- ``__version__``
- the Jupyter entry points ``_jupyter_server_extension_points`` and
  ``_jupyter_labextension_paths`` (found by jupyter_server and JupyterLab by name);
- the IPython extension hook ``load_ipython_extension`` (``%load_ext solidtype_jupyter``
  adds ``%ai_chat``; see ``widgets.magics``).

Sub-packages carry their own public API in their ``__init__``; the layering is
described in ``ARCHITECTURE.md`` (imports flow from ``server``/``widgets`` down to
``protocol``, never up).
"""

from typing import Any

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "solidtype-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    # Imported lazily: `import solidtype_jupyter` must stay cheap for kernels and the CLI.
    from .server.extension import SolidTypeApp

    return [{"module": "solidtype_jupyter", "app": SolidTypeApp}]


def load_ipython_extension(ipython: Any) -> None:
    # Imported lazily, as above: the magics pull in CadQuery and the widget stack.
    from .widgets.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .widgets.magics import unload_ipython_extension as unload

    unload(ipython)

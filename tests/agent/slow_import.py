"""A tool module that takes long to import: an agent start that outlasts its init timeout."""

from __future__ import annotations

import time

from solidtype_jupyter.tools.registry import ToolRegistry

time.sleep(5)


def register(registry: ToolRegistry) -> None:
    pass

"""Keep the catalog's paths in step with the contents tree: renames move entries (ids stay, so
sessions stay attached), deletions drop them.

jupyter_server emits a ``contents_service`` event after every successful rename and delete done
through its contents manager (the file browser, the contents REST API). Changes made behind its
back (a shell ``mv``) are not seen; ``CatalogRepository.register_document`` re-registers such a
file by its new path when it is opened again.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..store.catalog import CatalogError, CatalogRepository

CONTENTS_EVENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"

log = logging.getLogger(__name__)


def catalog_owner() -> str | None:
    """Whose entries this server's tree holds: on JupyterHub a single-user server's tree is
    its user's own, and other users' entries with the same relative paths must not move."""
    return os.environ.get("JUPYTERHUB_USER") or None


def watch_contents(event_logger: Any, catalog: CatalogRepository) -> None:
    owner_id = catalog_owner()

    # jupyter_events calls listeners with these keyword names.
    async def on_contents_event(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        action = data.get("action")
        try:
            if action == "rename" and data.get("source_path"):
                await catalog.move_path(data["source_path"], data["path"], owner_id=owner_id)
            elif action == "delete":
                await catalog.forget_path(data["path"], owner_id=owner_id)
        except CatalogError:
            return  # the root or a path outside the tree: nothing of ours lives there
        except Exception:
            # A listener's failure must not disturb the contents operation that succeeded.
            log.exception("solidtype: could not apply contents %s of %s", action, data)

    event_logger.add_listener(schema_id=CONTENTS_EVENTS, listener=on_contents_event)

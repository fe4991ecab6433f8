"""``GET {base}solidtype/api/health``: is the extension up, and how is it configured."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .._version import __version__
from ..llm.factory import demo_description
from ..protocol.api import HealthResponse
from .base import SolidTypeAPIHandler


class HealthHandler(SolidTypeAPIHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        app = self.extensionapp
        choice = app.model_choice  # type: ignore[attr-defined]
        demo = demo_description(choice)
        self.write_json(
            HealthResponse.model_validate(
                {
                    "status": "ok",
                    "version": __version__,
                    "database": {"backend": app.database_backend},  # type: ignore[attr-defined]
                    "model": {
                        "configured": choice is not None,
                        "provider": choice.provider if choice else None,
                        "name": choice.name if choice else None,
                        "demo": demo is not None,
                        "demo_notice": demo["notice"] if demo else None,
                        "demo_prompts": demo["prompts"] if demo else [],
                    },
                    "default_runtime": app.default_runtime,  # type: ignore[attr-defined]
                }
            )
        )

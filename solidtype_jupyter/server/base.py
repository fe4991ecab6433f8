"""The base class of every solidtype HTTP handler."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel, ValidationError
from tornado import web

if TYPE_CHECKING:
    from ..store.sessions import ChatSessionRepository

ModelT = TypeVar("ModelT", bound=BaseModel)


#: Identity providers whose logins carry no user name (jupyter_server's defaults).
NAMELESS_LOGINS = (IdentityProvider, PasswordIdentityProvider)


def session_owner(user: Any, identity_provider: Any, app: Any) -> str:
    """The user id a login's sessions belong to."""
    if type(identity_provider) in NAMELESS_LOGINS:
        # A single-user server's token or password names nobody: each browser gets a random
        # anonymous user. Whoever holds the token is the server's owner, so the sessions are
        # the owner's, the same ones the owner's kernels (%ai_chat) open.
        return str(app.anonymous_owner)
    return str(user.username)


class SolidTypeAPIHandler(ExtensionHandlerMixin, APIHandler):
    """JSON API handler bound to the ``solidtype`` extension.

    Authentication, XSRF and authorization are jupyter_server's own: subclasses decorate
    their methods with ``@web.authenticated`` and ``@authorized``; ``auth_resource``
    names our resource for authorizers that check per resource.
    """

    auth_resource = "solidtype"

    @property
    def username(self) -> str:
        """The user id every query is scoped to: the server's identity, never the request's."""
        user = self.current_user
        if user is None:  # only reachable from a handler that forgot @web.authenticated
            raise web.HTTPError(403)
        return session_owner(user, self.identity_provider, self.extensionapp)

    @property
    def sessions(self) -> ChatSessionRepository:
        repository = getattr(self.extensionapp, "sessions", None)
        if repository is None:  # initialize_settings failed; the log says why
            raise web.HTTPError(503, "the session store is not available")
        return repository  # type: ignore[no-any-return]

    def write_json(
        self, payload: BaseModel | dict[str, Any] | list[Any], status: int = 200
    ) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        if isinstance(payload, BaseModel):
            self.finish(payload.model_dump_json(by_alias=True))
        else:
            self.finish(json.dumps(payload))

    def allowed_methods(self) -> list[str]:
        """The HTTP methods this handler answers (what a 405's ``Allow`` header lists)."""
        return [
            method
            for method in self.SUPPORTED_METHODS
            if getattr(type(self), method.lower(), None)
            is not getattr(web.RequestHandler, method.lower(), None)
        ]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:  # RFC 9110 15.5.6: a 405 must say which methods are allowed
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        super().write_error(status_code, **kwargs)

    def parse_body(self, model: type[ModelT]) -> ModelT:
        """Validate the JSON body against ``model``; a bad or missing body is a 422 with the
        reasons (an empty body is not an empty object: a PATCH without one is a mistake)."""
        if not self.request.body.strip():
            self.set_status(422)
            self.finish({"message": "a JSON request body is required", "errors": []})
            raise web.Finish()
        try:
            return model.model_validate_json(self.request.body)
        except ValidationError as exc:
            errors = [
                {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False, include_context=False)
            ]
            self.set_status(422)
            self.finish({"message": "request body is invalid", "errors": errors})
            raise web.Finish() from exc

"""``ChatWidget``: the chat panel in a notebook (an anywidget around ``static/chat.js``).

The widget is only a transport. Its synced state is a few small traits; the conversation
never goes through traitlets (a trait is re-sent whole on every change). Instead:

- kernel → browser: custom messages (``post``): a first page of history per view, older
  pages on request, then AG-UI events in batches as they are stored (``post_events``);
- browser → kernel: commands (``send``, ``approve``, ``reject``, ``stop``, ``retry``, ``new``,
  ``switch``, ``archive``, ``ready``, ``more``), validated here (``parse_command``) and handed
  to the ``handler`` (the ``Chat``). A malformed command is answered with an ``error``
  message; it never raises into the kernel.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import anywidget
import traitlets
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
#: Largest number of AG-UI events in one custom message (a long answer arrives in several).
EVENTS_PER_MESSAGE = 500


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Ready(_Command):
    cmd: Literal["ready"]
    view: str = Field(min_length=1, max_length=100)


class More(_Command):
    cmd: Literal["more"]
    view: str = Field(min_length=1, max_length=100)
    before: int = Field(ge=0)


class Send(_Command):
    cmd: Literal["send"]
    text: str = Field(min_length=1, max_length=100_000)


class Approve(_Command):
    cmd: Literal["approve"]
    interrupt_id: str = Field(alias="interruptId", min_length=1)
    tool_call_id: str | None = Field(None, alias="toolCallId")
    edited_args: dict[str, Any] | None = Field(None, alias="editedArgs")


class Reject(_Command):
    cmd: Literal["reject"]
    interrupt_id: str = Field(alias="interruptId", min_length=1)
    tool_call_id: str | None = Field(None, alias="toolCallId")


class Stop(_Command):
    cmd: Literal["stop"]


class Retry(_Command):
    cmd: Literal["retry"]


class New(_Command):
    cmd: Literal["new"]


class Switch(_Command):
    cmd: Literal["switch"]
    session: str = Field(min_length=1, max_length=100)


class Archive(_Command):
    cmd: Literal["archive"]
    session: str = Field(min_length=1, max_length=100)


Command = Annotated[
    Ready | More | Send | Approve | Reject | Stop | Retry | New | Switch | Archive,
    Field(discriminator="cmd"),
]
_commands: TypeAdapter[Command] = TypeAdapter(Command)


class CommandError(ValueError):
    """A message from the browser that is not a valid command."""


def parse_command(content: Any) -> Command:
    """A browser message as a command; ``CommandError`` says what is wrong with it."""
    if not isinstance(content, dict) or "cmd" not in content:
        raise CommandError("a command is a JSON object with a `cmd` field")
    try:
        return _commands.validate_python(content)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'cmd'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise CommandError(f"invalid command {content.get('cmd')!r}: {problems}") from None


class ChatWidget(anywidget.AnyWidget):
    """The chat panel. ``handler(command)`` receives every valid command from the browser."""

    _esm = STATIC / "chat.js"
    _css = STATIC / "chat.css"

    title = traitlets.Unicode("SolidType AI").tag(sync=True)
    placeholder = traitlets.Unicode("").tag(sync=True)
    show_viewer = traitlets.Bool(True).tag(sync=True)
    session_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, handler: Callable[[Command], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handler = handler
        self.sent_messages = 0  # custom messages sent (tests, diagnostics)
        self.fallback_png: Callable[[], bytes | None] | None = None
        self.on_msg(self._on_browser_message)

    # --- kernel -> browser ------------------------------------------------------------------

    def post(self, kind: str, **payload: Any) -> None:
        """One custom message ``{kind, ...payload}`` to every view of this widget."""
        self.send({"kind": kind, **payload})
        self.sent_messages += 1

    def post_events(self, session: str, events: Sequence[dict[str, Any]]) -> None:
        """Stored events ``[{o: offset, e: event}]``, in messages of at most
        ``EVENTS_PER_MESSAGE`` events."""
        for start in range(0, len(events), EVENTS_PER_MESSAGE):
            self.post(
                "events", session=session, events=list(events[start : start + EVENTS_PER_MESSAGE])
            )

    def post_view(self, png: bytes | None, revision: str, caption: str) -> None:
        encoded = base64.b64encode(png).decode("ascii") if png else None
        self.post("view", png=encoded, revision=revision, caption=caption)

    def post_error(self, message: str, *, retry: bool = False) -> None:
        self.post("error", message=message, retry=retry)

    # --- browser -> kernel ------------------------------------------------------------------

    def _on_browser_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            command = parse_command(content)
        except CommandError as exc:
            self.post_error(str(exc))
            return
        if self.handler is None:
            self.post_error("this chat panel is not connected to a chat")
            return
        try:
            self.handler(command)
        except Exception as exc:  # the kernel must keep serving the notebook
            log.exception("chat command %r failed", content)
            self.post_error(f"{type(exc).__name__}: {exc}", retry=isinstance(command, Send))

    # --- static output ----------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, plus a PNG of the model for front-ends that cannot run widgets
        (nbconvert, GitHub): they show the picture instead."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.fallback_png is None:
            return bundle
        try:
            png = self.fallback_png()
        except Exception:  # a picture is a convenience; the widget must still display
            png = None
        if png:
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            if isinstance(data, dict):
                data["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle

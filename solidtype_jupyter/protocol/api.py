"""JSON answers of the health and chat routes (the session routes' are in ``sessions``).

The handlers answer with these models and the OpenAPI document is generated from them, so the
published schema and the answers cannot drift apart. Messages and events inside them are
AG-UI / TanStack shapes that the client interprets; they are described as objects here (the
event models themselves are in ``agui``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Answer(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class HealthDatabase(BaseModel):
    backend: str = Field(description="`sqlite` or `postgresql`")


class HealthModel(BaseModel):
    configured: bool
    provider: str | None
    name: str | None
    demo: bool = Field(
        default=False,
        description="a recorded demo (the `scripted` provider), not a model: UIs say so",
    )
    demo_notice: str | None = Field(
        default=None, description="for a demo: one line saying so and how to connect a model"
    )
    demo_prompts: list[str] = Field(
        default_factory=list, description="for a demo: the requests it can replay"
    )


class HealthResponse(BaseModel):
    """``GET .../health``; never the model's key. Its keys are snake_case (kept as published)."""

    status: Literal["ok"]
    version: str
    database: HealthDatabase
    model: HealthModel
    default_runtime: str


class ActiveRun(_Answer):
    run_id: str


class PendingInterrupts(_Answer):
    """The approvals the last run waits for (TanStack's hydrate shape)."""

    run_id: str
    pending: list[dict[str, Any]] = Field(description="AG-UI interrupts")


class ChatHydrate(_Answer):
    """The conversation rebuilt from the session's stream, as TanStack's ``ChatClient``
    hydrates it."""

    messages: list[dict[str, Any]] = Field(description="TanStack `UIMessage`s")
    active_run: ActiveRun | None
    interrupts: PendingInterrupts | None
    offset: str = Field(description="where a live read goes on (`offset=` of the SSE routes)")


class TranscriptPage(_Answer):
    """One page of the stored conversation (``?view=transcript``)."""

    messages: list[dict[str, Any]] = Field(description="AG-UI messages, tool results as rows")
    first: int = Field(ge=0, description="index of the first message of the page")
    total: int = Field(ge=0)
    offset: str
    interrupts: list[dict[str, Any]] = Field(description="the waiting AG-UI interrupts")
    active_run: ActiveRun | None


class LoggedEventJson(_Answer):
    offset: str
    event: dict[str, Any] = Field(description="one AG-UI event as stored")


class EventsPage(_Answer):
    """Stored events after an offset (``?offset=X``, or ``&live=long-poll``)."""

    events: list[LoggedEventJson]
    next_offset: str
    run_active: bool


class CancelAccepted(_Answer):
    run_id: str
    cancelled: Literal[True]


__all__ = [
    "ActiveRun",
    "CancelAccepted",
    "ChatHydrate",
    "EventsPage",
    "HealthDatabase",
    "HealthModel",
    "HealthResponse",
    "LoggedEventJson",
    "PendingInterrupts",
    "TranscriptPage",
]

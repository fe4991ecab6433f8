"""Anthropic Messages API adapter (the ``anthropic`` SDK, streamed with ``stream=True``).

Model aliases of the seed map to current model ids; any other id passes through unchanged.
The SDK retries 408/409/429/5xx (529 included) and failed connections before a response starts;
``retrying_stream`` restarts a stream that breaks before it produced an event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anthropic
import httpx2

from ..retry import RetryPolicy, retrying_stream
from ..types import (
    AssistantMessage,
    ChatMessage,
    ModelError,
    ModelEvent,
    ModelRequest,
    ModelStopped,
    StopReason,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallEnded,
    ToolCallStarted,
    ToolResultMessage,
    Usage,
    UserMessage,
)

# Latest models named by the installed SDK (anthropic 2.12, types/model_param.py).
MODEL_ALIASES: Mapping[str, str] = {
    "claude-sonnet": "claude-sonnet-5-5",
    "claude-opus": "claude-opus-5-5",
    "claude-haiku": "claude-haiku-5-5",
}

_STOP_REASONS: Mapping[str, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}

_RETRYABLE_ERROR_TYPES = {"overloaded_error", "rate_limit_error", "api_error", "timeout_error"}


def resolve_anthropic_model(name: str) -> str:
    return MODEL_ALIASES.get(name, name)


class AnthropicAdapter:
    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        timeout: float = 600.0,
    ) -> None:
        self.model = resolve_anthropic_model(model)
        self._alias = model
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )
        self._retry = retry or RetryPolicy()

    @property
    def label(self) -> str:
        return f"anthropic:{self._alias}"

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        return retrying_stream(lambda: self._stream_once(request), self._retry, self.label)

    async def close(self) -> None:
        await self._client.close()

    async def _stream_once(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": to_anthropic_messages(request.messages),
            "stream": True,
        }
        if request.system:
            kwargs["system"] = request.system
        if request.tools:
            # The portable schema as is, not strict tool use: strict mode compiles all strict
            # tools of a request into one grammar whose size, optional and union-typed
            # parameters are capped far below what the editor tools have; the registry
            # validates every call anyway.
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        try:
            stream = await self._client.messages.create(**kwargs)
        except Exception as exc:
            raise _model_error(exc) from exc

        tool_ids: dict[int, str] = {}
        usage = Usage()
        raw_reason: str | None = None
        try:
            async for event in stream:
                kind = event.type
                if kind == "message_start":
                    u = event.message.usage
                    usage = Usage(u.input_tokens or 0, u.output_tokens or 0)
                elif kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        tool_ids[event.index] = block.id
                        yield ToolCallStarted(block.id, block.name)
                    elif block.type == "text" and block.text:
                        yield TextDelta(block.text)
                elif kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta" and delta.text:
                        yield TextDelta(delta.text)
                    elif (
                        delta.type == "input_json_delta"
                        and delta.partial_json
                        and event.index in tool_ids
                    ):
                        yield ToolCallArgsDelta(tool_ids[event.index], delta.partial_json)
                elif kind == "content_block_stop":
                    if event.index in tool_ids:
                        yield ToolCallEnded(tool_ids[event.index])
                elif kind == "message_delta":
                    raw_reason = event.delta.stop_reason or raw_reason
                    # message_delta carries cumulative output (and sometimes input) tokens
                    u = event.usage
                    usage = Usage(
                        getattr(u, "input_tokens", None) or usage.input_tokens,
                        u.output_tokens or usage.output_tokens,
                    )
                elif kind == "message_stop":
                    break
        except ModelError:
            raise
        except Exception as exc:
            raise _model_error(exc) from exc
        finally:
            await stream.close()
        reason: StopReason = _STOP_REASONS.get(raw_reason or "", "other")
        yield ModelStopped(reason, usage, raw_reason)


def to_anthropic_messages(messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    """Our conversation → Messages API turns: tool results (and text after them) go in one
    user turn, as the API wants every ``tool_use`` answered in the next user message."""
    out: list[dict[str, Any]] = []

    def user_blocks() -> list[dict[str, Any]]:
        if out and out[-1]["role"] == "user":
            return out[-1]["content"]  # type: ignore[no-any-return]
        blocks: list[dict[str, Any]] = []
        out.append({"role": "user", "content": blocks})
        return blocks

    for message in messages:
        if isinstance(message, UserMessage):
            user_blocks().append({"type": "text", "text": message.content})
        elif isinstance(message, ToolResultMessage):
            content: str | list[dict[str, Any]] = message.content
            if message.images:
                content = [{"type": "text", "text": message.content}] + [
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": image.media_type,
                            "data": image.data_base64,
                        },
                    }
                    for image in message.images
                ]
            user_blocks().append(
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id,
                    "content": content,
                    "is_error": message.is_error,
                }
            )
        elif isinstance(message, AssistantMessage):
            blocks: list[dict[str, Any]] = []
            if message.text:
                blocks.append({"type": "text", "text": message.text})
            for call in message.tool_calls:
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": _arguments_object(call.arguments),
                    }
                )
            if blocks:
                out.append({"role": "assistant", "content": blocks})
    return out


def _arguments_object(arguments: str) -> dict[str, Any]:
    # Invalid arguments were answered with a tool error; the API still needs an object here.
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _model_error(exc: Exception) -> ModelError:
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return ModelError(f"connection to Anthropic failed: {exc}", "connection", retryable=True)
    if isinstance(exc, anthropic.APIStatusError):
        error_type = _error_type(exc.body)
        status = exc.status_code
        if status == 429 or error_type == "rate_limit_error":
            return ModelError(
                f"Anthropic rate limit: {exc.message}", "rate_limited", retryable=True
            )
        if status == 529 or error_type == "overloaded_error":
            return ModelError(f"Anthropic overloaded: {exc.message}", "overloaded", retryable=True)
        if status in (401, 403) or error_type in ("authentication_error", "permission_error"):
            return ModelError(
                f"Anthropic refused the API key (check ANTHROPIC_API_KEY): {exc.message}", "auth"
            )
        if status >= 500 or error_type in _RETRYABLE_ERROR_TYPES:
            return ModelError(f"Anthropic error: {exc.message}", "provider", retryable=True)
        return ModelError(f"Anthropic refused the request: {exc.message}", "bad_request")
    return ModelError(f"Anthropic stream failed: {exc!r}", "provider")


def _error_type(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("type"), str):
            return str(error["type"])
    return None

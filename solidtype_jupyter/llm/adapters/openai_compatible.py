"""OpenAI-compatible Chat Completions adapter (the ``openai`` SDK, ``stream=True``, tools).

Works with OpenAI and with servers that speak the same API: Ollama (``http://localhost:11434/v1``),
vLLM, LM Studio. Tool-call fragments are keyed by ``index`` as the API sends them; servers that
send a whole call in one chunk, omit call ids, or end a tool turn with ``finish_reason: stop``
(several local servers do) are handled too.

Tools are offered in strict mode (``"strict": true`` with ``openai_strict_schema``: the model's
arguments then always match the schema) when talking to OpenAI itself; other servers get the
portable schema unless ``strict_tools=True``, as their support for strict mode varies. Parallel
tool calls stay allowed although OpenAI does not promise strict schemas for them: the loop and
the registry validate every call anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx2
import openai

from ..retry import RetryPolicy, retrying_stream
from ..strict_schema import openai_strict_schema
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
    ToolSpec,
    Usage,
    UserMessage,
)

_STOP_REASONS: Mapping[str, StopReason] = {
    "stop": "stop",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "content_filter": "content_filter",
}

# Local servers ignore the key, but the SDK insists on one.
PLACEHOLDER_API_KEY = "not-needed"


class OpenAICompatibleAdapter:
    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        timeout: float = 600.0,
        include_usage: bool = True,
        strict_tools: bool | None = None,
    ) -> None:
        self.model = model
        self._client = openai.AsyncOpenAI(
            api_key=api_key or PLACEHOLDER_API_KEY,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
        )
        self._retry = retry or RetryPolicy()
        self._include_usage = include_usage
        host = self._client.base_url.host
        self.strict_tools = host == "api.openai.com" if strict_tools is None else strict_tools

    @property
    def label(self) -> str:
        return f"openai-compatible:{self.model}"

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        return retrying_stream(lambda: self._stream_once(request), self._retry, self.label)

    async def close(self) -> None:
        await self._client.close()

    def _function(self, tool: ToolSpec) -> dict[str, Any]:
        function: dict[str, Any] = {"name": tool.name, "description": tool.description}
        if self.strict_tools:
            function["parameters"] = openai_strict_schema(tool.parameters)
            function["strict"] = True
        else:
            function["parameters"] = tool.parameters
        return function

    async def _stream_once(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(request.system, request.messages),
            "stream": True,
            "max_tokens": request.max_tokens,
        }
        if self._include_usage:
            kwargs["stream_options"] = {"include_usage": True}
        if request.tools:
            kwargs["tools"] = [
                {"type": "function", "function": self._function(t)} for t in request.tools
            ]
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        try:
            stream = await self._client.chat.completions.create(**kwargs)
        except Exception as exc:
            raise _model_error(exc, self.base_url) from exc

        open_calls: dict[int, str] = {}  # index -> id, in arrival order
        raw_reason: str | None = None
        usage = Usage()
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = Usage(
                        chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0
                    )
                for choice in chunk.choices[:1]:
                    delta = choice.delta
                    if delta is not None:
                        if delta.content:
                            yield TextDelta(delta.content)
                        for fragment in delta.tool_calls or ():
                            index = fragment.index
                            function = fragment.function
                            if index not in open_calls:
                                call_id = fragment.id or f"call_{uuid.uuid4().hex[:24]}"
                                open_calls[index] = call_id
                                name = (function.name if function else None) or ""
                                yield ToolCallStarted(call_id, name)
                            if function is not None and function.arguments:
                                yield ToolCallArgsDelta(open_calls[index], function.arguments)
                    if choice.finish_reason:
                        raw_reason = choice.finish_reason
        except ModelError:
            raise
        except Exception as exc:
            raise _model_error(exc, self.base_url) from exc
        finally:
            await stream.close()
        for call_id in open_calls.values():
            yield ToolCallEnded(call_id)
        reason: StopReason = _STOP_REASONS.get(raw_reason or "", "other")
        if open_calls and reason == "stop":
            reason = "tool_calls"
        yield ModelStopped(reason, usage, raw_reason)


def to_openai_messages(system: str, messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    """Tool rows carry text only in this API; images a tool rendered follow the tool rows in
    one user message (vision models read it; the rows stay contiguous as the API requires)."""
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    pending_images: list[dict[str, Any]] = []

    def flush_images() -> None:
        if pending_images:
            out.append({"role": "user", "content": list(pending_images)})
            pending_images.clear()

    for message in messages:
        if not isinstance(message, ToolResultMessage):
            flush_images()
        if isinstance(message, UserMessage):
            out.append({"role": "user", "content": message.content})
        elif isinstance(message, ToolResultMessage):
            out.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
            for image in message.images:
                pending_images.append(
                    {"type": "text", "text": f"Image returned by tool call {message.tool_call_id}:"}
                )
                pending_images.append(
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:{image.media_type};base64,{image.data_base64}"},
                    }
                )
        elif isinstance(message, AssistantMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments or "{}"},
                    }
                    for call in message.tool_calls
                ]
            if message.text or message.tool_calls:
                out.append(entry)
    flush_images()
    return out


def _model_error(exc: Exception, base_url: str) -> ModelError:
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return ModelError(f"connection to {base_url} failed: {exc}", "connection", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            return ModelError(
                f"rate limited by {base_url}: {exc.message}", "rate_limited", retryable=True
            )
        if status in (401, 403):
            return ModelError(
                f"{base_url} refused the API key (check OPENAI_API_KEY): {exc.message}", "auth"
            )
        if status >= 500:
            return ModelError(f"{base_url} failed: {exc.message}", "provider", retryable=True)
        return ModelError(f"{base_url} refused the request: {exc.message}", "bad_request")
    if isinstance(exc, openai.APIError):
        # An ``error`` object inside the stream (status 200).
        return ModelError(f"{base_url} stream error: {exc.message}", "provider", retryable=True)
    return ModelError(f"{base_url} stream failed: {exc!r}", "provider")

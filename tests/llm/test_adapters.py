"""The real anthropic and openai SDKs, end to end against a local server speaking their
streaming formats: text, tool-argument deltas, stop reasons, usage, errors and retries."""

from __future__ import annotations

import json

import pytest

from solidtype_jupyter.llm import (
    AnthropicAdapter,
    ModelError,
    ModelRequest,
    ModelStopped,
    OpenAICompatibleAdapter,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallEnded,
    ToolCallStarted,
    ToolSpec,
    UserMessage,
)
from solidtype_jupyter.llm.adapters.anthropic import resolve_anthropic_model
from solidtype_jupyter.llm.types import AssistantMessage, ToolCall, ToolResultMessage

from .conftest import FAST_RETRY
from .fake_llm_server import Drop, HttpError, ToolUse, Turn

BOX = ToolSpec(
    "make_box",
    "Make a box",
    {"type": "object", "properties": {"width": {"type": "number"}}, "required": ["width"]},
)
REQUEST = ModelRequest(system="be brief", messages=(UserMessage("hi"),), tools=(BOX,))


def anthropic(server, **kw):
    return AnthropicAdapter(
        "claude-sonnet", api_key="test-key", base_url=server.anthropic_url, retry=FAST_RETRY, **kw
    )


def openai_compatible(server, **kw):
    return OpenAICompatibleAdapter("llama3.1", base_url=server.openai_url, retry=FAST_RETRY, **kw)


def script_of(server, provider):
    return server.anthropic if provider == "anthropic" else server.openai


def adapter_for(server, provider, **kw):
    return anthropic(server, **kw) if provider == "anthropic" else openai_compatible(server, **kw)


async def collect(adapter, request=REQUEST):
    return [event async for event in adapter.stream(request)]


PROVIDERS = ["anthropic", "openai"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_text_streams_as_deltas_with_stop_and_usage(fake_llm, provider):
    script_of(fake_llm, provider).push(
        Turn(text=["Hel", "lo, ", "world"], input_tokens=21, output_tokens=5)
    )
    events = await collect(adapter_for(fake_llm, provider))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo, ", "world"]
    stop = events[-1]
    assert isinstance(stop, ModelStopped)
    assert stop.reason == "stop"
    assert (stop.usage.input_tokens, stop.usage.output_tokens) == (21, 5)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_tool_call_argument_deltas_reassemble(fake_llm, provider):
    script_of(fake_llm, provider).push(
        Turn(
            text=["Making it."],
            tool_calls=[
                ToolUse("call_a", "make_box", ['{"wid', 'th": 4', "0}"]),
                ToolUse("call_b", "make_box", ['{"width"', ": 2}"]),
            ],
        )
    )
    events = await collect(adapter_for(fake_llm, provider))
    starts = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(s.id, s.name) for s in starts] == [("call_a", "make_box"), ("call_b", "make_box")]
    args: dict[str, str] = {}
    for e in events:
        if isinstance(e, ToolCallArgsDelta):
            args[e.id] = args.get(e.id, "") + e.delta
    assert json.loads(args["call_a"]) == {"width": 40}
    assert json.loads(args["call_b"]) == {"width": 2}
    assert {e.id for e in events if isinstance(e, ToolCallEnded)} == {"call_a", "call_b"}
    assert events[-1] == ModelStopped("tool_calls", events[-1].usage, events[-1].raw_reason)


@pytest.mark.parametrize(
    ("provider", "raw", "reason"),
    [
        ("anthropic", "max_tokens", "length"),
        ("anthropic", "refusal", "content_filter"),
        ("openai", "length", "length"),
        ("openai", "content_filter", "content_filter"),
    ],
)
async def test_stop_reasons_are_normalised(fake_llm, provider, raw, reason):
    script_of(fake_llm, provider).push(Turn(text=["cut"], stop=raw))
    events = await collect(adapter_for(fake_llm, provider))
    assert isinstance(events[-1], ModelStopped)
    assert (events[-1].reason, events[-1].raw_reason) == (reason, raw)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [429, 529, 503])
async def test_http_errors_are_retried_then_succeed(fake_llm, provider, status):
    error_type = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    script_of(fake_llm, provider).push(
        HttpError(status, error_type), HttpError(status, error_type), Turn(text=["after retries"])
    )
    events = await collect(adapter_for(fake_llm, provider))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["after retries"]
    assert len(fake_llm.requests_to(provider)) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_connection_dropped_before_response_is_retried(fake_llm, provider):
    script_of(fake_llm, provider).push(Drop(), Turn(text=["back"]))
    events = await collect(adapter_for(fake_llm, provider))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["back"]
    assert len(fake_llm.requests_to(provider)) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", ["drop", "error"])
async def test_stream_broken_before_first_event_is_retried_by_us(fake_llm, provider, fault):
    # The SDKs do not retry once the response has started; retrying_stream does, as long as
    # nothing was delivered yet (Anthropic: after message_start and ping).
    fault_after = 2 if provider == "anthropic" else 1
    script_of(fake_llm, provider).push(
        Turn(text=["lost"], fault=fault, fault_after=fault_after), Turn(text=["second try"])
    )
    events = await collect(adapter_for(fake_llm, provider, max_retries=0))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["second try"]
    assert len(fake_llm.requests_to(provider)) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stream_broken_after_text_fails_without_repeating(fake_llm, provider):
    fault_after = 4 if provider == "anthropic" else 2  # after the first text delta
    script_of(fake_llm, provider).push(
        Turn(text=["partial", " more"], fault="drop", fault_after=fault_after),
        Turn(text=["must not be used"]),
    )
    seen: list[object] = []
    with pytest.raises(ModelError) as info:
        async for event in adapter_for(fake_llm, provider).stream(REQUEST):
            seen.append(event)
    assert seen == [TextDelta("partial")]
    assert info.value.code == "connection"
    assert len(fake_llm.requests_to(provider)) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_retries_are_bounded(fake_llm, provider):
    script_of(fake_llm, provider).push(*[HttpError(429) for _ in range(20)])
    with pytest.raises(ModelError) as info:
        await collect(adapter_for(fake_llm, provider, max_retries=1))
    assert info.value.code == "rate_limited"
    # SDK: 1 + max_retries per attempt; ours: FAST_RETRY.attempts attempts
    assert len(fake_llm.requests_to(provider)) == 2 * FAST_RETRY.attempts


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_auth_error_is_not_retried(fake_llm, provider):
    script_of(fake_llm, provider).push(HttpError(401, "authentication_error", "bad key"))
    with pytest.raises(ModelError) as info:
        await collect(adapter_for(fake_llm, provider))
    assert info.value.code == "auth"
    assert len(fake_llm.requests_to(provider)) == 1


async def test_anthropic_request_wire_shape(fake_llm):
    fake_llm.anthropic.push(Turn(text=["ok"]))
    history = (
        UserMessage("make a box"),
        AssistantMessage("ok", (ToolCall("toolu_1", "make_box", '{"width":3}'),)),
        ToolResultMessage("toolu_1", '{"volume":27}'),
        UserMessage("thanks"),
    )
    await collect(anthropic(fake_llm), ModelRequest("sys", history, (BOX,), max_tokens=123))
    request = fake_llm.requests_to("anthropic")[0]
    assert request.path == "/v1/messages"
    # anthropic 2.x sends the key as a bearer token; 0.x as x-api-key
    key_header = request.headers.get("X-Api-Key") or request.headers.get("Authorization", "")
    assert key_header.endswith("test-key")
    body = request.body
    assert body["model"] == resolve_anthropic_model("claude-sonnet") != "claude-sonnet"
    assert body["stream"] is True and body["max_tokens"] == 123 and body["system"] == "sys"
    assert body["tools"] == [
        {"name": "make_box", "description": "Make a box", "input_schema": BOX.parameters}
    ]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "make_box",
        "input": {"width": 3},
    }
    assert body["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": '{"volume":27}',
            "is_error": False,
        },
        {"type": "text", "text": "thanks"},
    ]


async def test_openai_request_wire_shape(fake_llm):
    fake_llm.openai.push(Turn(text=["ok"]))
    history = (
        UserMessage("make a box"),
        AssistantMessage("", (ToolCall("call_1", "make_box", '{"width":3}'),)),
        ToolResultMessage("call_1", '{"volume":27}'),
    )
    await collect(openai_compatible(fake_llm), ModelRequest("sys", history, (BOX,)))
    body = fake_llm.requests_to("openai")[0].body
    assert body["model"] == "llama3.1" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["tools"][0] == {
        "type": "function",
        "function": {"name": "make_box", "description": "Make a box", "parameters": BOX.parameters},
    }
    assert body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "make a box"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "make_box", "arguments": '{"width":3}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"volume":27}'},
    ]


def test_model_aliases():
    assert resolve_anthropic_model("claude-sonnet").startswith("claude-sonnet-")
    assert resolve_anthropic_model("claude-opus").startswith("claude-opus-")
    assert resolve_anthropic_model("claude-3-7-sonnet-latest") == "claude-3-7-sonnet-latest"


def test_tool_images_in_openai_messages_follow_the_tool_rows():
    from solidtype_jupyter.llm.adapters.openai_compatible import to_openai_messages
    from solidtype_jupyter.llm.types import ImageData

    history = (
        UserMessage("look"),
        AssistantMessage("", (ToolCall("a", "render_view", "{}"), ToolCall("b", "x", "{}"))),
        ToolResultMessage("a", '{"view":"iso"}', images=(ImageData("image/png", "iVBORw0"),)),
        ToolResultMessage("b", "{}"),
    )
    out = to_openai_messages("", history)
    assert [m["role"] for m in out] == ["user", "assistant", "tool", "tool", "user"]
    assert out[-1]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0"},
    }

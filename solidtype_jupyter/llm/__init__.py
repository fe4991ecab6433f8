"""Model adapters and the agentic loop.

Public API:

- model setting: ``ModelChoice``, ``resolve_model``, ``demo_model`` (a demo notebook's
  model); ``create_adapter`` (→ ``ModelAdapter`` or
  ``ModelNotConfigured``), ``not_configured_run`` (the chat's answer without a model);
- adapters: ``AnthropicAdapter``, ``OpenAICompatibleAdapter``, ``ScriptedAdapter`` behind the
  ``ModelAdapter`` protocol, streaming ``ModelEvent``s; ``ModelError``; ``RetryPolicy``;
- the loop: ``AgentLoop`` / ``AgentRun`` (AG-UI events), ``LoopConfig``, ``CancelToken``,
  approvals (``PendingApproval``, ``pending_approvals``, ``decide_approvals``, ``ResumeError``);
- tools as the loop sees them: ``ToolExecutor`` protocol, ``ToolResult``, ``ApprovalPolicy``;
- ``build_system_prompt`` / ``system_prompt_source``; ``history_from_agui``;
- ``Transcript``: stored AG-UI events → messages, model history, pending approvals;
  ``user_message_events`` (how a user message is written to the stream).
"""

from .adapters import AnthropicAdapter, OpenAICompatibleAdapter, ScriptedAdapter
from .factory import ModelNotConfigured, create_adapter, demo_description, not_configured_run
from .history import history_from_agui, history_to_agui
from .loop import (
    AgentLoop,
    AgentRun,
    ApprovalDecision,
    CancelToken,
    LoopConfig,
    PendingApproval,
    ResumeError,
    decide_approvals,
    pending_approvals,
)
from .model_choice import ModelChoice, demo_model, resolve_model
from .prompts import build_system_prompt, system_prompt_source
from .retry import RetryPolicy
from .tool_executor import (
    ApprovalLevel,
    ApprovalPolicy,
    ToolDefinition,
    ToolExecutor,
    ToolResult,
)
from .transcript import Transcript, user_message_events
from .types import (
    AssistantMessage,
    ChatMessage,
    ModelAdapter,
    ModelError,
    ModelEvent,
    ModelRequest,
    ModelStopped,
    TextDelta,
    ToolCall,
    ToolCallArgsDelta,
    ToolCallEnded,
    ToolCallStarted,
    ToolResultMessage,
    ToolSpec,
    Usage,
    UserMessage,
)

__all__ = [
    "AgentLoop",
    "AgentRun",
    "AnthropicAdapter",
    "ApprovalDecision",
    "ApprovalLevel",
    "ApprovalPolicy",
    "AssistantMessage",
    "CancelToken",
    "ChatMessage",
    "LoopConfig",
    "ModelAdapter",
    "ModelChoice",
    "ModelError",
    "ModelEvent",
    "ModelNotConfigured",
    "ModelRequest",
    "ModelStopped",
    "OpenAICompatibleAdapter",
    "PendingApproval",
    "ResumeError",
    "RetryPolicy",
    "ScriptedAdapter",
    "TextDelta",
    "ToolCall",
    "ToolCallArgsDelta",
    "ToolCallEnded",
    "ToolCallStarted",
    "ToolDefinition",
    "ToolExecutor",
    "ToolResult",
    "ToolResultMessage",
    "ToolSpec",
    "Transcript",
    "Usage",
    "UserMessage",
    "build_system_prompt",
    "create_adapter",
    "decide_approvals",
    "demo_description",
    "demo_model",
    "history_from_agui",
    "history_to_agui",
    "not_configured_run",
    "pending_approvals",
    "resolve_model",
    "system_prompt_source",
    "user_message_events",
]

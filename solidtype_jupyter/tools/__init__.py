"""Tools the agent calls: a registry with JSON Schemas, approval levels and one entry point.

Public API:
- `ToolRegistry` (`definitions()`, `approval_level(name)`, `execute(name, raw_args, context)`),
  `ToolContext`, `ToolResult`, `ToolError`, `ToolDefinition`, `approval_level`,
  `APPROVAL_RULES`.
- `editor_registry()`: CAD editor tools; `dashboard_registry()`: workspaces, projects,
  documents and client-side navigation; `default_registry()`: both.
"""

from .dashboard import dashboard_registry
from .editor import editor_registry
from .registry import (
    APPROVAL_RULES,
    ToolContext,
    ToolDefinition,
    ToolError,
    ToolRegistry,
    ToolResult,
    approval_level,
)


def default_registry() -> ToolRegistry:
    """Every tool: the editor tools and the dashboard tools."""
    return editor_registry().merged(dashboard_registry())


__all__ = [
    "APPROVAL_RULES",
    "ToolContext",
    "ToolDefinition",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "approval_level",
    "dashboard_registry",
    "default_registry",
    "editor_registry",
]

from .registry import ToolRegistry


def dashboard_registry() -> ToolRegistry:
    return ToolRegistry([])

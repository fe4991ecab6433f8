"""The demo requests (the prompts of the bundled ``llm/scripts/*.jsonl`` demos) as MCP
prompts: what the quickstart and the chat panel's examples ask, ready for any agent."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import mcp_types as types

SCRIPTS = Path(__file__).resolve().parent.parent / "llm" / "scripts"


@cache
def demo_prompts() -> dict[str, tuple[str, str]]:
    """``{name: (script, text)}``, names like ``quickstart-1``, in the scripts' order."""
    from ..llm.adapters.scripted import ScriptedAdapter

    found: dict[str, tuple[str, str]] = {}
    for script in sorted(SCRIPTS.glob("*.jsonl")):
        for index, text in enumerate(ScriptedAdapter.from_file(script).prompts, start=1):
            found[f"{script.stem}-{index}"] = (script.stem, text)
    return found


def _title(text: str) -> str:
    first = re.split(r"(?<=[.;:])\s", text, maxsplit=1)[0]
    return first if len(first) <= 80 else first[:77] + "..."


def list_prompts() -> list[types.Prompt]:
    return [
        types.Prompt(
            name=name,
            title=_title(text),
            description=f"The {script} demo's request: {text}",
        )
        for name, (script, text) in demo_prompts().items()
    ]


def get_prompt(name: str) -> types.GetPromptResult | None:
    entry = demo_prompts().get(name)
    if entry is None:
        return None
    script, text = entry
    return types.GetPromptResult(
        description=f"The {script} demo's request",
        messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))],
    )

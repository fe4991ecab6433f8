"""Drive CAD documents through the tool API only, and snapshot them to prove refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.tools import ToolContext, ToolResult, editor_registry

REGISTRY = editor_registry()


@dataclass
class Snapshot:
    json: str
    update: bytes
    state_vector: bytes
    undo_depth: bool
    features: list[str] = field(default_factory=list)


class Session:
    """One document edited through `ToolRegistry.execute`, as the agent would."""

    def __init__(self, name: str = "part") -> None:
        self.doc = CadDocument(name)
        self.ctx = ToolContext(user_id="tester", document=self.doc)

    def raw(self, tool: str, **args: Any) -> ToolResult:
        return REGISTRY.execute_sync(tool, args, self.ctx)

    def call(self, tool: str, **args: Any) -> dict[str, Any]:
        result = self.raw(tool, **args)
        assert result.ok, f"{tool}({args}) failed: {result.error}"
        return result.content

    def snapshot(self) -> Snapshot:
        return Snapshot(
            json=self.doc.to_json(),
            update=self.doc.get_update(),
            state_vector=self.doc.get_state(),
            undo_depth=self.doc.can_undo,
            features=[f.id for f in self.doc.features],
        )

    def refused(self, tool: str, **args: Any) -> str:
        """Call a tool that must fail; assert the document did not change at all."""
        before = self.snapshot()
        volume = self.volume() if self.doc.bodies else None
        result = self.raw(tool, **args)
        assert not result.ok, f"{tool}({args}) should have failed but returned {result.content}"
        assert result.error is not None and result.error.message
        after = self.snapshot()
        assert after.json == before.json
        assert after.update == before.update
        assert after.state_vector == before.state_vector
        assert after.undo_depth == before.undo_depth
        if volume is not None:
            assert self.volume() == pytest.approx(volume)
        return result.error.message

    def volume(self) -> float:
        return float(sum(s.Volume() for s in self.doc.shape.solids().vals()))

    def solid(self) -> Any:
        solids = self.doc.shape.solids().vals()
        assert len(solids) == 1, f"expected one solid, got {len(solids)}"
        return solids[0]


@pytest.fixture
def session() -> Session:
    return Session()

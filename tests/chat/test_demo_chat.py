"""The bundled demo model behind the real chat routes: issue 18, "the demo lies".

In a chat with no CAD document (a dashboard chat) the quickstart demo used to call six editor
tools that are not there ("unknown tool 'create_sketch'" six times) and then say "Done: a
60 x 40 x 8 mm plate"; a request it had not recorded got "(The scripted conversation has no
more turns.)". The server must say it is a demo, and the demo must say what it can do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from solidtype_jupyter.llm.adapters.scripted import resolve_script_path
from solidtype_jupyter.llm.model_choice import CONNECT_A_MODEL

from .conftest import ALICE

QUICKSTART = "A 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets on the vertical edges"


@pytest.fixture
def script_path() -> Path:
    """The server runs the bundled quickstart demo, as `make lab` and Binder start it."""
    return resolve_script_path("quickstart")


def text_of(frames: list[tuple[str | None, dict[str, Any]]]) -> str:
    return "".join(e["delta"] for _, e in frames if e["type"] == "TEXT_MESSAGE_CONTENT")


def tool_events(frames: list[tuple[str | None, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [e for _, e in frames if e["type"].startswith("TOOL_CALL")]


async def test_health_says_the_model_is_a_recorded_demo(jp_fetch):
    response = await jp_fetch("solidtype", "api", "health")
    model = json.loads(response.body)["model"]
    assert model["provider"] == "scripted" and model["demo"] is True
    assert CONNECT_A_MODEL in model["demo_notice"]
    assert model["demo_prompts"] == [QUICKSTART]


async def test_the_demo_in_a_dashboard_chat_runs_no_tool_and_claims_nothing(chat):
    session_id = await chat.session(ALICE, "dashboard")
    code, frames = await chat.turn(ALICE, session_id, QUICKSTART)
    assert code == 200
    assert tool_events(frames) == []
    assert "unknown tool" not in json.dumps([e for _, e in frames])
    text = text_of(frames)
    assert text.startswith("This recorded demo needs a CAD document")
    assert "`create_sketch`" in text and "%ai_chat plate.solid.json" in text
    assert "Done" not in text and "plate with four" not in text
    assert frames[-1][1]["type"] == "RUN_FINISHED"


async def test_a_request_the_demo_did_not_record_gets_what_it_can_show(chat):
    session_id = await chat.session(ALICE, "dashboard")
    request = "make a 40 x 30 x 8 mm plate with a 6 mm hole in the middle"
    code, frames = await chat.turn(ALICE, session_id, request)
    assert code == 200 and tool_events(frames) == []
    text = text_of(frames)
    assert "recorded demo (scripted:" in text and "not one of them" in text
    assert f"- {QUICKSTART} (needs a chat with a CAD document)" in text
    assert text.endswith(CONNECT_A_MODEL)
    assert "no more turns" not in text

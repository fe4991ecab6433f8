"""chat.js shows an error as its words, whatever its shape (issue 18 #5: a failed tool card read
"[object Object]", because the registry's errors are objects ``{code, message}``).

``errorText`` is run in Node on the error results the real tool registry returns. Skipped, with
the reason, when Node is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm.tool_executor import error_text
from solidtype_jupyter.tools import ToolContext, editor_registry

CHAT_JS = Path(__file__).parents[2] / "solidtype_jupyter" / "widgets" / "static" / "chat.js"


def error_texts(values: list[object]) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    program = (
        f"import {{ errorText }} from {json.dumps(CHAT_JS.as_uri())};\n"
        f"const values = {json.dumps(values)};\n"
        "console.log(JSON.stringify(values.map((v) => errorText(v))));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_tool_errors_show_their_message_never_an_object() -> None:
    registry = editor_registry()
    context = ToolContext(user_id="alice", document=CadDocument("plate"))
    failed = registry.execute_sync("extrude", {"sketch_id": "sketch9", "distance": 8}, context)
    result = json.loads(failed.model_text())
    assert isinstance(result["error"], dict)  # the shape that showed "[object Object]"
    loop_error = json.loads(error_text("invalid arguments", problems=["width: must be > 0"]))
    shown = error_texts([result, loop_error, {"message": "gone"}, "plain words", None])
    message, code = result["error"]["message"], result["error"]["code"]
    assert shown == [
        f"{message} ({code})",
        "invalid arguments: width: must be > 0",
        "gone",
        "plain words",
        "Error",
    ]
    assert not any("[object Object]" in text for text in shown)

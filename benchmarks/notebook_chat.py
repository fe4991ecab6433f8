"""The notebook chat panel with long sessions: what opening one costs and what it sends.

For sessions of N messages (stored as a real chat would store them: user messages and
word-streamed assistant answers in the session's durable stream), measures through the
kernel-side code of ``%ai_chat`` (``ChatRuntime`` + ``Chat``, SQLite file):

- open: ``Chat.open`` on the existing session until the panel's first page is sent
  (cold: the stream is folded from the start; warm: a second open, folded log cached);
- the bytes of that first page, and of an older page (``more``);
- a new turn (the scripted demo's short answer to a request it has not recorded, so the
  turn is the same at every size): custom messages and bytes sent to the panel, i.e. the
  increments only.

Run: ``.venv/bin/python benchmarks/notebook_chat.py [--sizes 2000,10000]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any

from solidtype_jupyter.agent.event_log import StreamWriter, ensure_stream
from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import create_adapter, resolve_model, user_message_events
from solidtype_jupyter.protocol import agui
from solidtype_jupyter.protocol.sessions import chat_stream_path
from solidtype_jupyter.widgets import Chat, ChatWidget
from solidtype_jupyter.widgets.chat_widget import More
from solidtype_jupyter.widgets.runtime import ChatRuntime

sent: list[dict[str, Any]] = []
ChatWidget.send = lambda self, content, buffers=None: sent.append(content)  # type: ignore[method-assign,assignment]


def build(runtime: ChatRuntime, messages: int) -> str:
    async def work() -> str:
        session = await runtime.sessions.create(runtime.user_id, "editor")
        path = chat_stream_path(session.id)
        await ensure_stream(runtime.engine, path)
        writer = StreamWriter(runtime.engine, path)
        for i in range(messages // 2):
            await writer.put_all(user_message_events(f"u{i}", f"question {i}: make it thicker"))
            await writer.put(agui.TextMessageStart(message_id=f"a{i}", role="assistant"))
            for word in f"Answer {i}: the plate is now a little thicker, as asked.".split():
                await writer.put(agui.TextMessageContent(message_id=f"a{i}", delta=word + " "))
            await writer.put(agui.TextMessageEnd(message_id=f"a{i}"))
        await writer.drain()
        return str(session.id)

    return runtime.call(work())


def open_chat(runtime: ChatRuntime, session_id: str) -> tuple[Chat, float]:
    choice = resolve_model("scripted:quickstart", {})
    started = time.perf_counter()
    chat = Chat.open(
        runtime,
        model=lambda: create_adapter(choice, {}),
        model_label="scripted:quickstart",
        document=CadDocument("bench"),
        session_id=session_id,
    )
    return chat, time.perf_counter() - started


def size(kind: str) -> int:
    return sum(len(json.dumps(m)) for m in sent if m["kind"] == kind)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| messages | events | open cold | open warm (median) | first page | older page | "
          "new turn: messages / bytes |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SOLIDTYPE_USER"] = "bench"
        runtime = ChatRuntime(f"sqlite:///{folder}/bench.db")
        try:
            for messages in (int(s) for s in args.sizes.split(",")):
                session_id = build(runtime, messages)
                events = messages // 2 * 3 + messages // 2 * 12
                sent.clear()
                chat, cold = open_chat(runtime, session_id)
                first_page = size("reset")
                chat.close()
                warm = []
                for _ in range(args.repeat):
                    chat, elapsed = open_chat(runtime, session_id)
                    warm.append(elapsed)
                    chat.close()
                sent.clear()
                chat, _ = open_chat(runtime, session_id)
                reset = next(m for m in sent if m["kind"] == "reset")
                chat._on_command(More(cmd="more", view="b", before=reset["first"]))
                deadline = time.monotonic() + 30
                while not any(m["kind"] == "history" for m in sent):
                    if time.monotonic() > deadline:
                        raise RuntimeError("no history page")
                    time.sleep(0.01)
                older = size("history")
                before = len(sent)
                chat.send("and one more question")
                time.sleep(1.0)  # the last view picture
                turn = sent[before:]
                turn_bytes = sum(
                    len(json.dumps(m)) for m in turn if m["kind"] not in ("view", "thumbnail")
                )
                chat.close()
                print(
                    f"| {messages:,} | {events:,} | {cold * 1000:.0f} ms | "
                    f"{statistics.median(warm) * 1000:.0f} ms | {first_page / 1024:.1f} KiB | "
                    f"{older / 1024:.1f} KiB | {len(turn)} / {turn_bytes / 1024:.1f} KiB "
                    "(+ PNGs) |"
                )
        finally:
            runtime.close()


if __name__ == "__main__":
    main()

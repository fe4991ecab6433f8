// The real TanStack AI client against the solidtype chat route (started by
// tests/chat/test_node_client.py, which passes CHAT_URL, TOKEN and THREAD_ID).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatClient, fetchServerSentEvents } from "@tanstack/ai-client";

const { CHAT_URL, TOKEN, THREAD_ID } = process.env;

function connection() {
  return fetchServerSentEvents(CHAT_URL, { headers: { Authorization: `token ${TOKEN}` } });
}

// What a user sees of a conversation: roles, texts, tool calls and their results.
function summary(messages) {
  return messages.map((m) => ({
    id: m.id,
    role: m.role,
    parts: m.parts.map((p) =>
      p.type === "text"
        ? { text: p.content }
        : p.type === "tool-call"
          ? { call: p.id, name: p.name, arguments: p.arguments }
          : p.type === "tool-result"
            ? { result: p.toolCallId, content: String(p.content) }
            : { other: p.type },
    ),
  }));
}

// A new client (another tab, a reload) rebuilt from the server's hydrate answer.
async function hydrated() {
  const client = new ChatClient({ threadId: THREAD_ID, persistence: true, connection: connection() });
  client.attach(); // what a UI wrapper does on mount: hydrate from the server
  for (let i = 0; i < 100 && client.getMessages().length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return client;
}

async function settle(client) {
  for (let i = 0; i < 200 && client.getIsLoading?.() !== false; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("streamed answer, approval, approve, final answer", async () => {
  const errors = [];
  const chunks = [];
  const client = new ChatClient({
    threadId: THREAD_ID,
    connection: connection(),
    onError: (error) => errors.push(error),
    onChunk: (chunk) => chunks.push(chunk),
  });

  await client.sendMessage("Delete extrude1, please");
  await settle(client);
  assert.deepEqual(errors, []);
  const textDeltas = chunks.filter((c) => c.type === "TEXT_MESSAGE_CONTENT").map((c) => c.delta);
  assert.ok(textDeltas.length >= 2, "the answer streams in several deltas");
  const interrupts = client.getInterrupts();
  assert.equal(interrupts.length, 1);
  const [interrupt] = interrupts;
  assert.equal(interrupt.id, "approval_call_0_0");

  // Reloaded while the approval waits: same messages, same pending approval.
  const reloaded = await hydrated();
  assert.deepEqual(summary(reloaded.getMessages()), summary(client.getMessages()));
  assert.deepEqual(
    reloaded.getInterrupts().map((i) => i.id),
    ["approval_call_0_0"],
  );
  reloaded.detach?.();

  await client.addToolApprovalResponse({ id: interrupt.id, approved: true });
  await settle(client);
  assert.deepEqual(errors, []);
  assert.equal(client.getInterrupts().length, 0);

  const messages = client.getMessages();
  const shape = messages.map((m) => [
    m.role,
    m.parts.map((p) => (p.type === "text" ? `text:${p.content}` : p.type)).join("|"),
  ]);
  assert.deepEqual(
    messages.map((m) => m.role),
    ["user", "assistant", "assistant"],
    JSON.stringify(messages),
  );
  assert.equal(new Set(messages.map((m) => m.id)).size, messages.length);
  assert.equal(messages[0].parts[0].content, "Delete extrude1, please");
  const assistantText = messages
    .filter((m) => m.role === "assistant")
    .flatMap((m) => m.parts.filter((p) => p.type === "text").map((p) => p.content))
    .join(" ");
  assert.match(assistantText, /Deleting it\./);
  assert.match(assistantText, /Done after your answer\./);
  const call = messages
    .flatMap((m) => m.parts)
    .find((p) => p.type === "tool-call" && p.name === "delete_feature");
  assert.ok(call, JSON.stringify(shape));
  assert.deepEqual(JSON.parse(call.arguments), { feature_id: "extrude1" });
  assert.equal(call.approval.approved, true);
  const result = messages
    .flatMap((m) => m.parts)
    .find((p) => p.type === "tool-result" && p.toolCallId === call.id);
  assert.ok(result, JSON.stringify(shape));
  assert.match(String(result.content), /no CAD document/);

  // Reloaded at the end: the server's transcript paints exactly what the live client shows.
  const final = await hydrated();
  assert.deepEqual(summary(final.getMessages()), summary(messages));
  assert.equal(final.getInterrupts().length, 0);
  final.detach?.();
});

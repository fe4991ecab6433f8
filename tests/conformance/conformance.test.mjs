// Runs the official Durable Streams server conformance suite (pinned in package.json)
// against the server named by CONFORMANCE_TEST_URL (no trailing slash; the suite appends
// /v1/stream/<name>). Started by run.py, which also starts the server.
import { runConformanceTests } from "@durable-streams/server-conformance-tests"

const baseUrl = process.env.CONFORMANCE_TEST_URL
if (!baseUrl) throw new Error("set CONFORMANCE_TEST_URL")

runConformanceTests({
  baseUrl,
  longPollTimeoutMs: Number(process.env.LONG_POLL_TIMEOUT_MS ?? 20000),
  subscriptions: false,
})

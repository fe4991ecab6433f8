// The reference Durable Streams server (pinned in package.json), the anchor of
// benchmarks/streams.py. Usage: node serve.mjs PORT [DATA_DIR]
// Without DATA_DIR it keeps streams in memory; with it, in files + LMDB.
import { DurableStreamTestServer } from "@durable-streams/server"

const port = Number(process.argv[2] ?? 4437)
const dataDir = process.argv[3]
const server = new DurableStreamTestServer({
  port,
  host: "127.0.0.1",
  longPollTimeout: 30000,
  ...(dataDir ? { dataDir } : {}),
})
await server.start()
console.log(`reference server at ${server.url}`)

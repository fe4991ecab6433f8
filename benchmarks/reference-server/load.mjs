// Append load generator for benchmarks/streams.py: W writers, each N sequential POSTs of a
// small JSON message on its own keep-alive connection, all to one stream.
// Usage: node load.mjs PORT PATH WRITERS PER_WRITER  -> prints {"rate": messages/s}
// Node's HTTP client is used because a Python client saturates before these servers do.
import http from "node:http"

const [port, path, writers, perWriter] = process.argv.slice(2)
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(writers) })
const message = { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "hello, world" }

function post(body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port: Number(port),
        path,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        response.resume()
        response.on("end", () =>
          response.statusCode < 300 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))
        )
      }
    )
    request.on("error", reject)
    request.end(body)
  })
}

async function writer(id, count) {
  for (let n = 0; n < count; n++) await post(JSON.stringify({ ...message, writer: id, n }))
}

await writer(-1, 50) // warm-up: connections, JIT, caches
const start = process.hrtime.bigint()
await Promise.all(Array.from({ length: Number(writers) }, (_, id) => writer(id, Number(perWriter))))
const seconds = Number(process.hrtime.bigint() - start) / 1e9
console.log(JSON.stringify({ rate: (Number(writers) * Number(perWriter)) / seconds }))
agent.destroy()

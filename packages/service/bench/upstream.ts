/**
 * The benchmark's fake upstream, run in a child process so that its CPU does
 * not count against the relay. Every answer is pre-serialised:
 * - a non-streaming request gets one chat.completion;
 * - a streaming request gets `bench_chunks` chunk events (a pass-through
 *   field of the request; default 1,000), written in large blocks, then
 *   `data: [DONE]`.
 * It reports `{ port }` to its parent once listening.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

const completion = Buffer.from(JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "bench-model",
  system_fingerprint: "fp_bench",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "The quick brown fox jumps over the lazy dog. ".repeat(4), refusal: null },
    logprobs: null,
    finish_reason: "stop"
  }],
  usage: { prompt_tokens: 24, completion_tokens: 40, total_tokens: 64 }
}))

const event = (choice: Record<string, unknown>) =>
  `data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "bench-model",
      system_fingerprint: "fp_bench",
      choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }]
    })
  }\n\n`

const BLOCK = 1_000
const tokens = Array.from({ length: BLOCK }, (_, i) => event({ delta: { content: ` tok${i}` } }))
const block = Buffer.from(tokens.join(""))
const blocks = new Map<number, Buffer>()
/** `count` token events, pre-serialised in one buffer (cached per count). */
const partial = (count: number) => {
  let buffer = blocks.get(count)
  if (buffer === undefined) {
    buffer = Buffer.from(tokens.slice(0, count).join(""))
    blocks.set(count, buffer)
  }
  return buffer
}
const head = Buffer.from(event({ delta: { role: "assistant", content: "" } }))
const tail = Buffer.from(event({ delta: {}, finish_reason: "stop" }) + "data: [DONE]\n\n")

const writeAll = async (res: Http.ServerResponse, count: number) => {
  res.write(head)
  for (let left = count; left > 0; left -= BLOCK) {
    const ok = res.write(left >= BLOCK ? block : partial(left))
    if (!ok) await new Promise<void>((resolve) => res.once("drain", () => resolve()))
  }
  res.end(tail)
}

const server = Http.createServer((req, res) => {
  const parts: Array<Buffer> = []
  req.on("data", (part: Buffer) => parts.push(part))
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { stream?: boolean; bench_chunks?: number }
    if (body.stream === true) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
      void writeAll(res, Math.max(0, (body.bench_chunks ?? 1_000) - 2))
    } else {
      res.writeHead(200, { "content-type": "application/json", "content-length": completion.length })
      res.end(completion)
    }
  })
})
server.keepAliveTimeout = 60_000

server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port })
})
process.on("disconnect", () => process.exit(0))

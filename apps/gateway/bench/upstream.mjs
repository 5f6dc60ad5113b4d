// A fast fake OpenAI-compatible upstream for benchmarks, with pre-serialised answers. What it
// streams depends on the model the request names:
//   any other model   20 chunks, written in one piece
//   "chunks-N"        N chunks (role, N-2 tokens, finish), written in one piece
//   "drip-N"          N chunks, one write each (a new event-loop turn between writes), so that the
//                     gateway reads them one by one, as from a model producing tokens
//   "slow", "slow-MS" 20 chunks, 100 ms (or MS) apart
//   "hold-MS"         the first chunk at once, the other 19 MS later
//   "hold"            the first chunk at once, the other 19 when `POST /release` is called
import * as http from "node:http"

const port = Number(process.argv[2] ?? 0)
const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1700000000,
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello! How can I help you today?", refusal: null }, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 }
})
const chunk = (delta, finish) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model: "bench", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`
const DONE = "data: [DONE]\n\n"

const cache = new Map()
/** The events of an n-chunk stream, [DONE] last, and the whole body. */
const stream = (n) => {
  let known = cache.get(n)
  if (known === undefined) {
    const events = [chunk({ role: "assistant", content: "" }, null)]
    for (let i = 0; i < n - 2; i++) events.push(chunk({ content: ` token${i}` }, null))
    events.push(chunk({}, "stop"), DONE)
    known = { events, body: events.join("") }
    cache.set(n, known)
  }
  return known
}

const held = new Set()
const release = (res) => {
  held.delete(res)
  if (!res.destroyed) res.end(stream(20).body.slice(stream(20).events[0].length))
}

const server = http.createServer((req, res) => {
  if (req.url === "/release") {
    const count = held.size
    for (const waiting of [...held]) release(waiting)
    res.end(`${count}\n`)
    return
  }
  let body = ""
  req.setEncoding("utf8")
  req.on("data", (d) => (body += d))
  req.on("end", () => {
    if (!body.includes('"stream":true')) {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(completion) })
      res.end(completion)
      return
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    const shape = /"model":"(chunks|drip|slow|hold)(?:-(\d+))?"/.exec(body)
    if (shape === null) return res.end(stream(20).body)
    const [, kind, number] = shape
    if (kind === "chunks") return res.end(stream(Math.max(2, Number(number ?? 20))).body)
    const { events, body: whole } = stream(kind === "drip" ? Math.max(2, Number(number ?? 20)) : 20)
    if (kind === "hold") {
      res.write(events[0])
      if (number === undefined) {
        held.add(res)
        res.on("close", () => held.delete(res))
        return
      }
      const timer = setTimeout(() => res.end(whole.slice(events[0].length)), Number(number))
      res.on("close", () => clearTimeout(timer))
      return
    }
    let i = 0
    const next = () => {
      if (res.destroyed) return
      let event = events[i++]
      if (i === events.length - 1) event += events[i++] // [DONE] goes with the last chunk
      if (i === events.length) return res.end(event)
      res.write(event)
      if (kind === "drip") setImmediate(next)
      else setTimeout(next, Number(number ?? 100))
    }
    if (kind === "drip") next()
    else setTimeout(next, Number(number ?? 100))
  })
})
server.keepAliveTimeout = 65_000
server.listen({ port, host: "127.0.0.1", backlog: 4096 }, () => {
  process.stdout.write(`${server.address().port}\n`)
})

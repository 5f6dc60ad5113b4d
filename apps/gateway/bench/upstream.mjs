// A fast fake OpenAI-compatible upstream for benchmarks: pre-serialised answers,
// 20-chunk streams, and slow streams (`"model":"slow"`: 100 ms between chunks).
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
const events = [chunk({ role: "assistant", content: "" }, null)]
for (let i = 0; i < 18; i++) events.push(chunk({ content: ` token${i}` }, null))
events.push(chunk({}, "stop"))
const streamBody = events.join("") + "data: [DONE]\n\n"

const server = http.createServer((req, res) => {
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
    if (!body.includes('"model":"slow"')) {
      res.end(streamBody)
      return
    }
    let i = 0
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer)
      res.write(events[i++])
      if (i === events.length) {
        clearInterval(timer)
        res.end("data: [DONE]\n\n")
      }
    }, 100)
  })
})
server.keepAliveTimeout = 65_000
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`)
})

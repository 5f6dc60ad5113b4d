// The reference point: a bare relay (node:http in, undici.request out), no validation, no Effect.
// It does the least a gateway must: reads the body, strips the vendor prefix from the model, and
// pipes the upstream's answer back piece by piece as it arrives: no buffering, with backpressure,
// and a client that goes away aborts the upstream call. By hand rather than with stream.pipeline,
// which costs about 60 µs more per request here.
import * as http from "node:http"
import { Agent, request } from "undici"

const [port, upstream] = [Number(process.argv[2] ?? 0), process.argv[3]]
const agent = new Agent({ keepAliveTimeout: 30_000 })
const server = http.createServer((req, res) => {
  const parts = []
  req.on("data", (d) => parts.push(d))
  req.on("end", async () => {
    try {
      const json = JSON.parse(Buffer.concat(parts).toString("utf8"))
      json.model = json.model.slice(json.model.indexOf("/") + 1)
      const up = await request(`${upstream}/chat/completions`, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json", authorization: "Bearer x" },
        body: JSON.stringify(json)
      })
      const headers = { "content-type": up.headers["content-type"] }
      if (up.headers["content-length"] !== undefined) headers["content-length"] = up.headers["content-length"]
      res.writeHead(up.statusCode, headers)
      const body = up.body
      body.on("data", (part) => {
        if (res.write(part)) return
        body.pause()
        res.once("drain", () => body.resume())
      })
      body.on("end", () => res.end())
      body.on("error", () => res.destroy())
      res.on("close", () => body.readableEnded || body.destroy())
    } catch (error) {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    }
  })
})
server.keepAliveTimeout = 65_000
server.listen(port, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`))

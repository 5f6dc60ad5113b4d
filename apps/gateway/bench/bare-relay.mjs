// The reference point: a bare relay (node:http in, undici.request out), no validation, no Effect.
import * as http from "node:http"
import { Agent, request } from "undici"

const [port, upstream] = [Number(process.argv[2] ?? 0), process.argv[3]]
const agent = new Agent({ keepAliveTimeout: 30_000 })
const server = http.createServer((req, res) => {
  const parts = []
  req.on("data", (d) => parts.push(d))
  req.on("end", async () => {
    try {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8"))
      body.model = body.model.slice(body.model.indexOf("/") + 1)
      const up = await request(`${upstream}/chat/completions`, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json", authorization: "Bearer x" },
        body: JSON.stringify(body)
      })
      res.writeHead(up.statusCode, { "content-type": up.headers["content-type"] })
      for await (const part of up.body) res.write(part)
      res.end()
    } catch (error) {
      res.writeHead(502).end(String(error))
    }
  })
})
server.keepAliveTimeout = 65_000
server.listen(port, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`))

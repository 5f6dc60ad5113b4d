import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Http from "node:http"
import { startGateway } from "./support/Harness.js"

const TIMEOUT = 60_000
const KEY = "sy-auth-first"
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] as const
const hello = JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hello" }] })

interface Raw {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly text: string
}

/** One request with the path sent exactly as written (no URL normalization by the client). */
const raw = (port: number, method: string, path: string, headers: Http.OutgoingHttpHeaders = {}, body?: string) =>
  Effect.promise(() =>
    new Promise<Raw>((resolve, reject) => {
      const req = Http.request({
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        headers: body === undefined ? headers : { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers }
      })
      req.on("response", (res) => {
        const parts: Array<Buffer> = []
        res.on("data", (part: Buffer) => parts.push(part))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString("utf8") }))
      })
      req.on("error", reject)
      req.end(body)
    })
  )

/** Known routes, unknown ones, and the same in shapes a router might normalize. */
const PATHS = [
  "/v5/chat/completions",
  "/v1/chat/completions",
  "/v5/models",
  "/v1/models",
  "/nope",
  "/",
  "/v5",
  "/v5/chat/completions/abc",
  "/v2/models",
  "/v5/models/",
  "/v5/chat/completions/",
  "/health/",
  "//v5/models",
  "//health",
  "/v5//models",
  "/v5/../v5/models",
  "/v5/./models",
  "/health/../v5/models",
  "/docs/../v5/models",
  "/v5%2Fmodels",
  "/v5/chat%2Fcompletions",
  "/V5/MODELS",
  "/v5/models?x=1",
  "/v5/chat/completions?stream=true",
  "/nope?a=b"
]

const bodyFor = (method: string) => method === "POST" || method === "PUT" || method === "PATCH" ? hello : undefined

describe("authentication first", () => {
  it.scopedLive("without a key or with a wrong one, every method on every non-open path is the same 401", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const bodies = new Set<string>()
      for (const credentials of [{}, { "x-api-key": "wrong" }, { authorization: "Bearer wrong" }, { authorization: `Basic ${KEY}` }]) {
        for (const path of PATHS) {
          for (const method of METHODS) {
            const response = yield* raw(gateway.port, method, path, credentials, bodyFor(method))
            const where = `${method} ${path} ${JSON.stringify(credentials)}`
            expect(response.status, where).toBe(401)
            expect(response.headers["allow"], where).toBeUndefined()
            expect(response.headers["content-type"], where).toBe("application/json")
            if (method !== "HEAD") bodies.add(response.text)
          }
        }
      }
      // One body for all: it says nothing about which routes exist.
      expect([...bodies]).toHaveLength(1)
      expect(JSON.parse([...bodies][0]!)).toEqual({
        error: {
          message: "Missing or invalid API key: send it as `x-api-key: <key>` or `Authorization: Bearer <key>`.",
          type: "authentication_error",
          param: null,
          code: "invalid_api_key"
        }
      })
      expect(gateway.upstream.requests).toHaveLength(0)
    }), TIMEOUT)

  it.scopedLive("with a valid key: 200 on routes, 405 with allow for other methods, 404 for every other path shape", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      // GET on the completion paths lists stored completions.
      const routes: Record<string, string> = {
        "/v5/chat/completions": "POST, GET",
        "/v1/chat/completions": "POST, GET",
        "/v5/models": "GET",
        "/v1/models": "GET",
        "/v5/models?x=1": "GET",
        "/v5/chat/completions?stream=true": "POST, GET",
        // A stored completion's route: its object does not exist (404 not_found); an update's body is not one (422).
        "/v5/chat/completions/abc": "GET, POST, DELETE"
      }
      const missingObject: Record<string, number> = { GET: 404, HEAD: 404, DELETE: 404, POST: 422 }
      for (const credentials of [{ "x-api-key": KEY }, { authorization: `Bearer ${KEY}` }]) {
        for (const path of PATHS) {
          for (const method of METHODS) {
            const response = yield* raw(gateway.port, method, path, credentials, bodyFor(method))
            const where = `${method} ${path}`
            const allowed = routes[path]
            if (allowed === undefined) {
              expect(response.status, where).toBe(404)
              if (method !== "HEAD") expect(JSON.parse(response.text).error.code, where).toBe("not_found")
            } else if (allowed.split(", ").includes(method) || (method === "HEAD" && allowed.includes("GET"))) {
              expect(response.status, where).toBe(path.endsWith("/abc") ? missingObject[method] : 200)
            } else {
              expect(response.status, where).toBe(405)
              expect(response.headers["allow"], where).toBe(allowed)
              if (method !== "HEAD") expect(JSON.parse(response.text).error.code, where).toBe("method_not_allowed")
            }
            expect(response.headers["content-type"], where).toMatch(/^application\/json|^text\/event-stream/)
          }
        }
      }
    }), TIMEOUT)

  it.scopedLive("the open paths answer without a key; their other shapes do not", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      for (const path of ["/health", "/ready", "/openapi.json", "/docs", "/health?probe=1"]) {
        expect((yield* raw(gateway.port, "GET", path)).status, path).toBe(200)
        expect((yield* raw(gateway.port, "HEAD", path)).status, `HEAD ${path}`).toBe(200)
      }
      const post = yield* raw(gateway.port, "POST", "/health", {}, "{}")
      expect(post.status).toBe(405)
      expect(post.headers["allow"]).toBe("GET")
      for (const path of ["/health/", "//health", "/x/../health", "/HEALTH", "/docs/", "/openapi.json/"]) {
        expect((yield* raw(gateway.port, "GET", path)).status, path).toBe(401)
      }
    }), TIMEOUT)

  it.scopedLive("a request target node cannot parse is a JSON 400 that names no route", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      for (const path of ["%2Fhealth", "v5/models"]) {
        const response = yield* raw(gateway.port, "GET", path, { "x-api-key": KEY })
        expect(response.status, path).toBe(400)
        expect(response.headers["content-type"]).toBe("application/json")
        expect(JSON.parse(response.text)).toMatchObject({ error: { message: "Malformed HTTP request.", type: "invalid_request_error" } })
      }
      expect((yield* raw(gateway.port, "GET", "/health")).status).toBe(200)
    }), TIMEOUT)

  it.scopedLive("the access log names the key id and the account, never the key", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [`${KEY}:acct_a`] } })
      const response = yield* raw(gateway.port, "POST", "/v5/chat/completions", { "x-api-key": KEY }, hello)
      expect(response.status).toBe(200)
      const line = yield* gateway.log.line((line) => line.includes(String(response.headers["x-request-id"])))
      expect(line).toMatch(/ key=key_[0-9a-f]{12} account=acct_a /)
      const denied = yield* raw(gateway.port, "GET", "/v5/models", { "x-api-key": "not-the-key" })
      expect(denied.status).toBe(401)
      yield* gateway.log.line((line) => line.includes(String(denied.headers["x-request-id"])) && line.includes(" 401 "))
      expect(gateway.log.text()).not.toContain(KEY)
      expect(gateway.log.text()).not.toContain("not-the-key")
    }), TIMEOUT)
})

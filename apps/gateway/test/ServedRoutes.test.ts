import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { postJson, request, startGateway } from "./support/Harness.js"

const TIMEOUT = 60_000
const KEY = "sy-served-routes"
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"] as const
const auth = { "x-api-key": KEY }

interface Document {
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>
}

/**
 * Whether the gateway serves a method on a path: anything but the router's 404 ("No route for …") and 405
 * (a 401 cannot happen: the key is valid). A route about a stored object answers its own 404 for an unknown
 * id (`/v5/chat/completions/x`, `/v1/responses/x`): such a route is served.
 */
const served = (url: string, method: string, path: string) =>
  Effect.promise(async () => {
    const concrete = path.replace(/:[^/]+/g, "x")
    const response = method === "POST"
      ? await postJson(`${url}${concrete}`, { model: "echo/echo", messages: [{ role: "user", content: "hi" }] }, auth)
      : await request(`${url}${concrete}`, { method, headers: auth })
    expect(response.status, `${method} ${path}`).not.toBe(401)
    const noRoute = response.status === 404 &&
      /^No route for /.test((JSON.parse(response.text) as { error?: { message?: string } }).error?.message ?? "")
    return !noRoute && response.status !== 405
  })

describe("/openapi.json equals the served routes", () => {
  it.scopedLive("every path and method in the document is served; every other method on those paths is not", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const document = JSON.parse((yield* Effect.promise(() => request(`${gateway.url}/openapi.json`))).text) as Document
      const documented = Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ":$1")}`)
      )
      expect(documented).toEqual(expect.arrayContaining([
        "POST /v5/chat/completions",
        "POST /v1/chat/completions",
        "POST /v5/responses",
        "GET /v1/responses/:response_id",
        "DELETE /v5/responses/:response_id",
        "GET /v1/responses/:response_id/input_items",
        "GET /v5/models",
        "GET /v1/models",
        "GET /health",
        "GET /ready",
        "GET /openapi.json",
        "GET /docs",
        "GET /metrics"
      ]))
      const servedRoutes: Array<string> = []
      for (const path of Object.keys(document.paths).map((path) => path.replace(/\{([^}]+)\}/g, ":$1"))) {
        for (const method of METHODS) {
          if (yield* served(gateway.url, method, path)) servedRoutes.push(`${method} ${path}`)
        }
      }
      expect(servedRoutes.sort()).toEqual([...documented].sort())
    }), TIMEOUT)

  it.scopedLive("paths the document does not have are not served", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { apiKeys: [KEY] } })
      const document = JSON.parse((yield* Effect.promise(() => request(`${gateway.url}/openapi.json`))).text) as Document
      const others = [
        "/v1/completions",
        "/v1/embeddings",
        "/v1/responses/x/y",
        "/v1/response",
        "/v5/chat",
        "/v1/chat/completions/x/y",
        "/v1/models/x",
        "/metrics/x",
        "/dashboard/x",
        "/dashboard/assets/a/b",
        "/openapi.yaml",
        "/docs/index.html",
        "/"
      ]
      for (const path of others) {
        expect(Object.keys(document.paths)).not.toContain(path)
        for (const method of METHODS) expect(yield* served(gateway.url, method, path), `${method} ${path}`).toBe(false)
      }
    }), TIMEOUT)
})

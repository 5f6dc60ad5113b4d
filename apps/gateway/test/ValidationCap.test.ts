import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { postJson, startGateway } from "./support/Harness.js"

const TIMEOUT = 60_000
const LIMIT = 64 * 1024

interface Body {
  readonly detail: ReadonlyArray<{ readonly loc: ReadonlyArray<unknown>; readonly type: string; readonly input?: unknown }>
  readonly error: { readonly message: string; readonly code: string }
}

describe("a 422 never echoes an unbounded input", () => {
  it.scopedLive("a 5 MB string where a number belongs: 422 under 64 KiB, the string cut with a marker", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 16 * 1024 * 1024 } })
      const huge = "x".repeat(5 * 1024 * 1024)
      const response = yield* Effect.promise(() =>
        postJson(`${gateway.url}/v5/chat/completions`, {
          model: "echo/echo",
          messages: [{ role: "user", content: "hi" }],
          temperature: huge,
          metadata: { note: huge }
        })
      )
      expect(response.status).toBe(422)
      expect(response.body.length).toBeLessThan(LIMIT)
      const body = JSON.parse(response.text) as Body
      const temperature = body.detail.find((entry) => entry.loc.join(".") === "body.temperature")
      expect(temperature?.input).toBe(`${"x".repeat(1024)}…[truncated ${huge.length - 1024} chars]`)
      expect(body.error.code).toBe("validation_error")
    }), TIMEOUT)

  it.scopedLive("10,000 invalid messages: 422 under 64 KiB, the first problems listed, the count kept in the message", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 16 * 1024 * 1024 } })
      const messages = Array.from({ length: 10_000 }, (_, i) => ({ role: "bogus", content: `message ${i} ${"y".repeat(500)}` }))
      const response = yield* Effect.promise(() => postJson(`${gateway.url}/v5/chat/completions`, { model: "echo/echo", messages }))
      expect(response.status).toBe(422)
      expect(response.body.length).toBeLessThan(LIMIT)
      const body = JSON.parse(response.text) as Body
      expect(body.detail.length).toBeGreaterThan(0)
      expect(body.detail.length).toBeLessThanOrEqual(50)
      expect(body.detail[0]).toMatchObject({ loc: ["body", "messages", 0, "role"], type: "literal_error", input: "bogus" })
      expect(body.error.message).toContain("(and 9999 more problems)")
    }), TIMEOUT)

  it.scopedLive("a 1 MB metadata key (reported in loc, param and the message) is cut too", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 16 * 1024 * 1024 } })
      const key = "k".repeat(1024 * 1024)
      const response = yield* Effect.promise(() =>
        postJson(`${gateway.url}/v5/chat/completions`, { model: "echo/echo", messages: [{ role: "user", content: "hi" }], metadata: { [key]: "v" } })
      )
      expect(response.status).toBe(422)
      expect(response.body.length).toBeLessThan(LIMIT)
      expect(response.text).toContain("…[truncated ")
    }), TIMEOUT)

  it.scopedLive("a long string inside an object input is cut too", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway({ gateway: { bodyLimitBytes: 16 * 1024 * 1024 } })
      const long = "z".repeat(100_000)
      const response = yield* Effect.promise(() =>
        postJson(`${gateway.url}/v5/chat/completions`, { model: "echo/echo", messages: [{ role: "user", content: { text: long } }] })
      )
      expect(response.status).toBe(422)
      expect(response.body.length).toBeLessThan(LIMIT)
      expect(response.text).toContain(`…[truncated ${long.length - 1024} chars]`)
      expect(response.text).not.toContain("z".repeat(1025))
    }), TIMEOUT)
})

import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { UpstreamHttp } from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { completion } from "./support.js"

/** A pool built in a scope of its own, so that a test can close it. */
const openPool = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const context = yield* Layer.buildWithScope(UpstreamHttp.layer(), scope)
  return { http: Context.get(context, UpstreamHttp), scope }
})

describe("UpstreamHttp's pool (undici, made on the first request)", () => {
  it.live("a pool that never sent a request closes at once, and a request made after that fails typed, never as a defect", () =>
    Effect.gen(function*() {
      const { http, scope } = yield* openPool
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(http.exchange({ vendor: "v", url: "http://127.0.0.1:9/v1/x", headers: {} }))
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", message: expect.stringContaining("pool is closed") })
    }))

  it.live("requests sent together before the pool exists all wait for it and all succeed", () =>
    Effect.gen(function*() {
      const fake = yield* Effect.acquireRelease(
        Effect.promise(() => FakeUpstream.start((_, res) => FakeUpstream.sendJson(res, 200, completion("ok")))),
        (fake) => Effect.promise(() => fake.close())
      )
      const { http, scope } = yield* openPool
      const call = http.exchange({ vendor: "v", url: `${fake.baseUrl}/chat/completions`, headers: {}, body: "{}" })
      const answers = yield* Effect.all([call, call, call], { concurrency: "unbounded" })
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200])
      expect(answers.every((answer) => JSON.parse(answer.text).choices[0].message.content === "ok")).toBe(true)
      expect(fake.requests).toHaveLength(3)
      yield* Scope.close(scope, Exit.void)
    }).pipe(Effect.scoped))
})

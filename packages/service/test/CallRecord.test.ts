import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Stream, TestClock } from "effect"
import { makeCallRecord, makeContext, settleAttempts, upstreamMs } from "../src/index.js"
import { FakeUpstream } from "../src/testing/index.js"
import { awaitBackoff, completion, request, withUpstream } from "./support.js"

const unavailable = (res: Parameters<FakeUpstream.FakeHandler>[1]) =>
  FakeUpstream.sendJson(res, 503, { error: { message: "The server is overloaded", type: "server_error" } })

describe("CallRecord: what ChatCompletions reports about a call", () => {
  it.scoped("a retried create records a failed first attempt, a successful retry, and the answering target", () =>
    Effect.gen(function*() {
      const { service } = yield* withUpstream((_, res, index) =>
        index === 0 ? unavailable(res) : FakeUpstream.sendJson(res, 200, completion("ok"))
      )
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(service.create(request(), makeContext({ record })))
      yield* TestClock.adjust(yield* awaitBackoff(8_000))
      yield* Fiber.join(fiber)
      expect(record.attempts.map((a) => [a.kind, a.outcome])).toEqual([["first", "unavailable"], ["retry", "ok"]])
      expect(record.attempts[0]!.error).toContain("overloaded")
      expect(record.target).toBe(record.attempts[1]!.target)
      expect(record.target).toMatch(/^openai\//)
      expect(record.vendor).toBe("openai")
      expect(upstreamMs(record)).toBeGreaterThan(0)
    }))

  it.scoped("a stream's attempt ends ok at its first chunk; a failure that is not retried is recorded as rejected", () =>
    Effect.gen(function*() {
      const { service } = yield* withUpstream((req, res) =>
        req.body.includes("bad")
          ? FakeUpstream.sendJson(res, 400, { error: { message: "bad request", type: "invalid_request_error" } })
          : FakeUpstream.sendJson(res, 200, completion("streamed"))
      )
      const ok = makeCallRecord()
      yield* Stream.runDrain(service.stream({ ...request(), stream: true }, makeContext({ record: ok })))
      expect(ok.attempts.map((a) => a.outcome)).toEqual(["ok"])

      const failed = makeCallRecord()
      const badRequest = { ...request(), messages: [{ role: "user" as const, content: "bad" }] }
      yield* Effect.flip(service.create(badRequest, makeContext({ record: failed })))
      expect(failed.attempts.map((a) => a.outcome)).toEqual(["rejected"])
      expect(failed.target).toBeUndefined()
    }))

  it.scoped("an interrupted attempt stays open until settled, then counts as cancelled", () =>
    Effect.gen(function*() {
      const { service } = yield* withUpstream(() => undefined)
      const record = makeCallRecord()
      const fiber = yield* Effect.fork(service.create(request(), makeContext({ record })))
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      yield* Fiber.interrupt(fiber)
      expect(record.attempts[0]!.outcome).toBeUndefined()
      settleAttempts(record)
      expect(record.attempts[0]!.outcome).toBe("cancelled")
    }))
})

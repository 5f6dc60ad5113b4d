import type { ResponseObject } from "@switchyard/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ResponseInput, ResponsesStore, type StoredResponse } from "../src/index.js"

const stored = (id: string, accountId: string | undefined, itemId = `msg_${id}`): StoredResponse => {
  const response: ResponseObject = {
    ...ResponseInput.responseBase({ model: "test/m", input: "x" }, id, 1),
    status: "completed",
    completed_at: 1,
    error: null,
    incomplete_details: null,
    usage: null,
    output: [{ id: `out_${id}`, type: "message", role: "assistant", status: "completed", content: [] }]
  }
  return {
    response,
    input: [{ id: itemId, type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "x" }] }],
    accountId
  }
}

describe("ResponsesStore.makeMemory", () => {
  it.effect("reads are scoped to the account that saved; items of input and output are found by id", () =>
    Effect.gen(function*() {
      const store = ResponsesStore.makeMemory()
      yield* store.save(stored("r1", "a"))
      yield* store.save(stored("r2", undefined))
      expect(Option.isSome(yield* store.get("r1", "a"))).toBe(true)
      expect(Option.isNone(yield* store.get("r1", "b"))).toBe(true)
      expect(Option.isNone(yield* store.get("r1", undefined))).toBe(true)
      expect(Option.isSome(yield* store.get("r2", undefined))).toBe(true)
      expect(Option.getOrThrow(yield* store.getItem("msg_r1", "a")).id).toBe("msg_r1")
      expect(Option.getOrThrow(yield* store.getItem("out_r1", "a")).type).toBe("message")
      expect(Option.isNone(yield* store.getItem("out_r1", "b"))).toBe(true)
      expect(yield* store.delete("r1", "b")).toBe(false)
      expect(yield* store.delete("r1", "a")).toBe(true)
      expect(Option.isNone(yield* store.get("r1", "a"))).toBe(true)
      expect(Option.isNone(yield* store.getItem("out_r1", "a"))).toBe(true)
      expect(yield* store.delete("r1", "a")).toBe(false)
    }))

  it.effect("keeps the latest `maxResponses`; deleting a response keeps an item another response re-used", () =>
    Effect.gen(function*() {
      const store = ResponsesStore.makeMemory({ maxResponses: 2 })
      yield* store.save(stored("r1", "a", "msg_shared"))
      yield* store.save(stored("r2", "a", "msg_shared"))
      yield* store.save(stored("r3", "a"))
      expect(Option.isNone(yield* store.get("r1", "a"))).toBe(true)
      expect(Option.isSome(yield* store.get("r2", "a"))).toBe(true)
      expect(Option.isSome(yield* store.getItem("msg_shared", "a"))).toBe(true)
      yield* store.save(stored("r4", "a"))
      expect(Option.isNone(yield* store.getItem("msg_shared", "a"))).toBe(true)
    }))
})

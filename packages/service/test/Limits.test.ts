import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { formatReset, makeMemoryLimitStore, periodOf } from "../src/index.js"

describe("limits: policy", () => {
  it("writes resets as OpenAI does", () => {
    expect([17, 999, 1_000, 1_500, 45_000, 60_000, 360_000, 90_500, 3_723_000].map(formatReset)).toEqual([
      "17ms",
      "999ms",
      "1s",
      "1.5s",
      "45s",
      "1m0s",
      "6m0s",
      "1m30.5s",
      "1h2m3s"
    ])
  })

  it("finds the UTC day, week (from Monday) and month of a time", () => {
    const at = Date.UTC(2026, 11, 2, 15, 30) // a Wednesday
    expect(periodOf("day", at)).toEqual({ start: Date.UTC(2026, 11, 2), end: Date.UTC(2026, 11, 3) })
    expect(periodOf("week", at)).toEqual({ start: Date.UTC(2026, 10, 30), end: Date.UTC(2026, 11, 7) })
    expect(periodOf("month", at)).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) })
    expect(periodOf("week", Date.UTC(2026, 10, 30))).toEqual({ start: Date.UTC(2026, 10, 30), end: Date.UTC(2026, 11, 7) })
  })
})

describe("limits: the in-memory store", () => {
  const rpm = { id: "k:rpm", limit: 2, windowMs: 60_000, cost: 1 }
  const tpm = { id: "k:tpm", limit: 100, windowMs: 60_000, cost: 40 }

  it.effect("takes every counter or none, and tells how long until the window allows", () =>
    Effect.gen(function*() {
      const store = makeMemoryLimitStore()
      expect(yield* store.acquire([rpm, tpm], [], "l1", 0)).toEqual({ _tag: "Admitted", windows: [{ start: 0, count: 1 }, { start: 0, count: 40 }] })
      expect(yield* store.acquire([rpm, tpm], [], "l2", 1_000)).toMatchObject({ _tag: "Admitted" })
      // The tokens would fit, the requests not: nothing is taken.
      expect(yield* store.acquire([{ ...tpm, cost: 10 }, rpm], [], "l3", 15_000)).toEqual({
        _tag: "Refused",
        index: 1,
        retryAfterMs: 45_000,
        used: 2
      })
      expect((yield* store.peek([tpm], [], 15_000)).windows).toEqual([{ start: 0, count: 80 }])
      expect(yield* store.acquire([rpm], [], "l4", 60_000)).toEqual({ _tag: "Admitted", windows: [{ start: 60_000, count: 1 }] })
    }))

  it.effect("settles a reservation within its window only, and releases slots", () =>
    Effect.gen(function*() {
      const store = makeMemoryLimitStore()
      const slot = { id: "k:conc", limit: 1 }
      yield* store.acquire([tpm], [slot], "l1", 0)
      expect(yield* store.acquire([], [slot], "l2", 1)).toMatchObject({ _tag: "Refused", index: 0 })
      yield* store.settle({ windows: [{ id: tpm.id, start: 0, delta: 25 }], slots: [slot.id], lease: "l1" })
      expect(yield* store.peek([tpm], [slot.id], 2)).toEqual({ windows: [{ start: 0, count: 65 }], slots: [0] })
      // A settlement for a window that has rolled over changes nothing.
      yield* store.acquire([tpm], [], "l3", 60_000)
      yield* store.settle({ windows: [{ id: tpm.id, start: 0, delta: -40 }], slots: [], lease: "l3" })
      expect((yield* store.peek([tpm], [], 60_001)).windows).toEqual([{ start: 60_000, count: 40 }])
    }))
})

import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope, TestClock } from "effect"
import { WriteQueue } from "../src/index.js"

class Down {
  readonly _tag = "Down"
  readonly message = "connection refused"
}

/** A fake database: writes fail while it is down or for rejected items; it records what it got. */
const fakeDatabase = () => {
  const state = {
    up: true,
    rejected: new Set<number>(),
    written: [] as Array<number>,
    attempts: 0,
    batches: [] as Array<ReadonlyArray<number>>
  }
  const write = (batch: ReadonlyArray<number>) =>
    Effect.suspend(() => {
      state.attempts++
      if (!state.up) return Effect.fail(new Down())
      if (batch.some((n) => state.rejected.has(n))) return Effect.fail({ _tag: "Rejected", message: "constraint violated" })
      state.batches.push(batch)
      state.written.push(...batch)
      return Effect.void
    })
  const ping = Effect.suspend(() => (state.up ? Effect.void : Effect.fail(new Down())))
  return { state, write, ping }
}

const make = (db: ReturnType<typeof fakeDatabase>, options: { capacity?: number; batchSize?: number; linger?: number } = {}) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const queue = yield* WriteQueue.make({
      name: "test",
      capacity: options.capacity ?? 100,
      batchSize: options.batchSize ?? 10,
      write: db.write,
      ping: db.ping,
      linger: options.linger ?? 0,
      describe: (n: number) => `row ${n}`
    }).pipe(Scope.extend(scope))
    return { queue, close: Scope.close(scope, Exit.void) }
  })

/** Lets the writer fiber run (it is woken by offers and timers, not by the test's fiber). */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("WriteQueue", () => {
  it.effect("writes what is offered in batches of at most batchSize, in order", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      const { close, queue } = yield* make(db, { batchSize: 4 })
      for (let i = 0; i < 10; i++) expect(yield* queue.offer(i)).toBe(i)
      yield* queue.flush
      expect(db.state.written).toStrictEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(db.state.batches.every((b) => b.length <= 4)).toBe(true)
      expect(queue.stats()).toStrictEqual({ depth: 0, capacity: 100, written: 10, dropped: 0, failed: 0 })
      yield* close
    }))

  it.effect("with a linger, rows gather into one batch (a full batch goes at once)", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      const { close, queue } = yield* make(db, { batchSize: 5, linger: 50 })
      for (let i = 0; i < 3; i++) yield* queue.offer(i)
      yield* settle
      expect(db.state.batches).toStrictEqual([])
      yield* TestClock.adjust(49)
      yield* settle
      expect(db.state.batches).toStrictEqual([])
      yield* TestClock.adjust(1)
      yield* settle
      expect(db.state.batches).toStrictEqual([[0, 1, 2]])
      for (let i = 3; i < 8; i++) yield* queue.offer(i)
      yield* settle
      expect(db.state.batches).toStrictEqual([[0, 1, 2], [3, 4, 5, 6, 7]])
      yield* close
    }))

  it.effect("while the database is down, a batch is retried with backoff doubling from 100 ms up to 5 s, and lands once it is back", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      db.state.up = false
      const attempts: Array<number> = []
      const { close, queue } = yield* make({
        ...db,
        write: (batch) => Effect.zipRight(Effect.map(TestClock.currentTimeMillis, (now) => attempts.push(now)), db.write(batch))
      })
      yield* queue.offer(1)
      yield* queue.offer(2)
      while (attempts.length < 9) {
        yield* settle
        yield* TestClock.adjust(50)
      }
      const delays = attempts.slice(1).map((at, i) => at - attempts[i]!)
      expect(delays).toStrictEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000])
      expect(queue.stats()).toMatchObject({ depth: 2, written: 0, failed: 0 })
      expect(queue.lastError()).toBe("connection refused")
      db.state.up = true
      yield* TestClock.adjust(5000)
      yield* queue.flush
      expect(db.state.written).toStrictEqual([1, 2])
      expect(queue.stats()).toMatchObject({ depth: 0, written: 2, failed: 0 })
      expect(queue.lastError()).toBeNull()
      yield* close
    }))

  it.effect("a batch the database rejects while up is written row by row; only the rejected row is lost, and counted", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      db.state.rejected.add(3)
      const { close, queue } = yield* make(db)
      for (let i = 0; i < 6; i++) yield* queue.offer(i)
      const flushed = yield* Effect.fork(queue.flush)
      for (let i = 0; i < 3; i++) {
        yield* settle
        yield* TestClock.adjust(5000)
      }
      yield* Fiber.join(flushed)
      expect(db.state.written).toStrictEqual([0, 1, 2, 4, 5])
      expect(queue.stats()).toMatchObject({ depth: 0, written: 5, failed: 1 })
      yield* close
    }))

  it.effect("a full queue refuses without waiting and counts what it refused", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      db.state.up = false
      const { close, queue } = yield* make(db, { capacity: 3, batchSize: 1 })
      const results: Array<number | undefined> = []
      for (let i = 0; i < 6; i++) {
        results.push(yield* queue.offer(i))
        yield* settle
      }
      // One row is in the batch being retried; three wait; the last two are refused.
      expect(results).toStrictEqual([0, 1, 2, 3, undefined, undefined])
      expect(queue.stats()).toMatchObject({ depth: 4, dropped: 2 })
      db.state.up = true
      yield* TestClock.adjust(5000)
      yield* queue.flush
      expect(db.state.written).toStrictEqual([0, 1, 2, 3])
      yield* close
    }))

  it.effect("awaitSettled waits for exactly the item's batch", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      db.state.up = false
      const { close, queue } = yield* make(db, { batchSize: 1 })
      const first = (yield* queue.offer(10))!
      const waiter = yield* Effect.fork(queue.awaitSettled(first))
      yield* settle
      expect(waiter.unsafePoll()).toBeNull()
      db.state.up = true
      yield* TestClock.adjust(100)
      yield* Fiber.join(waiter)
      expect(db.state.written).toStrictEqual([10])
      yield* close
    }))

  it.effect("someone waiting for a row cuts the linger short: its batch goes at once, with what gathered before it", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      const { close, queue } = yield* make(db, { batchSize: 5, linger: 50 })
      yield* queue.offer(0)
      yield* settle
      const awaited = (yield* queue.offer(1))!
      const waiter = yield* Effect.fork(queue.awaitSettled(awaited))
      yield* settle
      expect(db.state.batches).toStrictEqual([[0, 1]])
      yield* Fiber.join(waiter)
      // Rows nobody waits for linger again.
      yield* queue.offer(2)
      yield* settle
      expect(db.state.batches).toStrictEqual([[0, 1]])
      yield* TestClock.adjust(50)
      yield* settle
      expect(db.state.batches).toStrictEqual([[0, 1], [2]])
      // A waiter who comes before the writer starts to linger: no linger either.
      const next = (yield* queue.offer(3))!
      const early = yield* Effect.fork(queue.awaitSettled(next))
      yield* Fiber.join(early)
      expect(db.state.batches).toStrictEqual([[0, 1], [2], [3]])
      // Shutting down while rows linger writes them at once.
      yield* queue.offer(4)
      yield* settle
      yield* close
      expect(db.state.batches).toStrictEqual([[0, 1], [2], [3], [4]])
    }))

  it.effect("closing the scope drains the queue", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      const { close, queue } = yield* make(db, { batchSize: 7 })
      for (let i = 0; i < 50; i++) yield* queue.offer(i)
      yield* close
      expect(db.state.written).toHaveLength(50)
    }))

  it.effect("closing while the database stays down gives up after the drain timeout, counting the rows as failed", () =>
    Effect.gen(function*() {
      const db = fakeDatabase()
      db.state.up = false
      const { close, queue } = yield* make(db)
      for (let i = 0; i < 5; i++) yield* queue.offer(i)
      const closing = yield* Effect.fork(close)
      for (let i = 0; i < 10 && closing.unsafePoll() === null; i++) {
        yield* settle
        yield* TestClock.adjust(5000)
      }
      yield* Fiber.join(closing)
      expect(db.state.written).toStrictEqual([])
      expect(queue.stats()).toMatchObject({ failed: 5 })
      // Refused once closed.
      expect(yield* queue.offer(99)).toBeUndefined()
    }))
})

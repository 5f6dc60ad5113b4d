import type { WriteQueueStats } from "@switchyard/service"
import { Clock, Deferred, Duration, Effect, Fiber, type Scope } from "effect"

/** Options of a write queue. */
export interface WriteQueueOptions<A, E> {
  /** What the queue holds, for logs (`store`). */
  readonly name: string
  /** Items that may wait before new ones are refused. */
  readonly capacity: number
  /** Items written together at most. */
  readonly batchSize: number
  /** Writes a batch; must be idempotent (a batch may be retried after a write that did land). */
  readonly write: (batch: ReadonlyArray<A>) => Effect.Effect<void, E>
  /** Whether the database answers at all, to tell an outage from a batch it rejects. */
  readonly ping: Effect.Effect<void, unknown>
  /** Called once each batch is settled (written, or given up), in order. */
  readonly onSettled?: ((batch: ReadonlyArray<A>) => void) | undefined
  /** Describes an item in a log line (an id; never content). */
  readonly describe?: ((item: A) => string) | undefined
  /** How long shutdown waits for the queue to drain (default 10 s). */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /**
   * How long the writer lets rows gather before writing a batch smaller than
   * `batchSize` (default 0: at once). A transaction has a fixed cost (on
   * SQLite ~0.5 ms of CPU against ~16 µs per row in a batch of 100), so a few
   * tens of milliseconds turn many small transactions into few large ones.
   * Someone waiting for a row (`awaitSettled`, `flush`) cuts the wait short.
   */
  readonly linger?: Duration.DurationInput | undefined
  /** First retry delay (default 100 ms), doubled up to `maxRetryDelay` (default 5 s). */
  readonly retryDelay?: Duration.DurationInput | undefined
  readonly maxRetryDelay?: Duration.DurationInput | undefined
}

/** A bounded queue whose items a background fiber writes in batches. */
export interface WriteQueue<A> {
  /**
   * Enqueues an item without waiting: its sequence number, or `undefined` if
   * the queue is full (counted, and logged at most every 10 s).
   */
  readonly offer: (item: A) => Effect.Effect<number | undefined>
  /** `offer` without the log: the sequence number, or `undefined` (counted) if the queue is full. */
  readonly unsafeOffer: (item: A) => number | undefined
  /** Logs the items refused since the last report, at most every 10 s. */
  readonly reportDropped: Effect.Effect<void>
  /** Waits until the item with this sequence number (and all before it) is settled; its batch goes without lingering. */
  readonly awaitSettled: (seq: number) => Effect.Effect<void>
  /** Waits until everything offered so far is settled. */
  readonly flush: Effect.Effect<void>
  readonly stats: () => WriteQueueStats
  /** The last write error, until a write succeeds again. */
  readonly lastError: () => string | null
}

const errorText = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const { cause, message } = error as { readonly message?: unknown; readonly cause?: unknown }
    const causeText = cause instanceof Error ? cause.message : undefined
    if (typeof message === "string") return causeText && causeText !== message ? `${message} (${causeText})` : message
  }
  return String(error)
}

/**
 * A write queue living in the scope. Writes never hold up the caller: items
 * wait in a bounded queue and one fiber writes them in batches. While the
 * database is down a batch is retried with backoff (from 100 ms up to 5 s),
 * forever; a batch the database rejects although it is up is written item by
 * item, and the items it still rejects are logged and counted as failed.
 * Closing the scope drains the queue, waiting up to `drainTimeout`.
 */
export const make = <A, E>(options: WriteQueueOptions<A, E>): Effect.Effect<WriteQueue<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    // A plain array: offering is a push on the request path, and only the writer removes items.
    const buffer: Array<readonly [number, A]> = []
    let wake: Deferred.Deferred<void> | undefined
    // Set while the writer lingers: someone waiting for a row in the buffer ends the linger.
    let hurry: Deferred.Deferred<void> | undefined
    let awaitedThrough = -1
    let stopping = false
    let closed = false
    const describe = options.describe ?? (() => "a row")
    const retryDelay = Duration.toMillis(options.retryDelay ?? Duration.millis(100))
    const linger = Duration.toMillis(options.linger ?? Duration.zero)
    const maxRetryDelay = Duration.toMillis(options.maxRetryDelay ?? Duration.seconds(5))

    let nextSeq = 0
    let settledThrough = -1
    let inflight = 0
    let written = 0
    let dropped = 0
    let droppedSinceLog = 0
    let lastDropLog = Number.NEGATIVE_INFINITY
    let failed = 0
    let lastError: string | null = null
    const waiters: Array<{ readonly seq: number; readonly done: Deferred.Deferred<void> }> = []

    const settle = (batch: ReadonlyArray<readonly [number, A]>) =>
      Effect.suspend(() => {
        const last = batch[batch.length - 1]
        if (last !== undefined) settledThrough = last[0]
        inflight = 0
        options.onSettled?.(batch.map(([, item]) => item))
        const ready = waiters.filter((w) => w.seq <= settledThrough)
        if (ready.length === 0) return Effect.void
        waiters.splice(0, waiters.length, ...waiters.filter((w) => w.seq > settledThrough))
        return Effect.forEach(ready, (w) => Deferred.succeed(w.done, undefined), { discard: true })
      })

    /** Writes what the database accepts of a batch it rejected as a whole; logs and counts the rest. */
    const writeOneByOne = (batch: ReadonlyArray<A>) =>
      Effect.forEach(batch, (item) =>
        options.write([item]).pipe(
          Effect.catchAllDefect((defect) => Effect.fail(defect)),
          Effect.tap(() => Effect.sync(() => void written++)),
          Effect.catchAll((error) =>
            Effect.zipRight(
              Effect.sync(() => void failed++),
              Effect.logError(`${options.name}: the database rejected ${describe(item)}; it is not stored`, errorText(error))
            )
          )
        ), { discard: true })

    const writeBatch = (batch: ReadonlyArray<A>): Effect.Effect<void> =>
      Effect.gen(function*() {
        let delay = retryDelay
        let rejections = 0
        let lastLog = Number.NEGATIVE_INFINITY
        for (let attempt = 1;; attempt++) {
          // A defect (a bug, or a driver's) must not kill the writer: it counts as a failed attempt.
          const result = yield* Effect.either(
            Effect.catchAllDefect(options.write(batch), (defect) => Effect.fail(defect))
          )
          if (result._tag === "Right") {
            written += batch.length
            if (lastError !== null) yield* Effect.logInfo(`${options.name}: the database is writable again`)
            lastError = null
            return
          }
          lastError = errorText(result.left)
          const reachable = yield* Effect.isSuccess(Effect.timeout(options.ping, Duration.seconds(2)))
          if (reachable && ++rejections >= 3) {
            yield* Effect.logWarning(`${options.name}: a batch of ${batch.length} was rejected 3 times; writing it row by row`, lastError)
            return yield* writeOneByOne(batch)
          }
          const now = yield* Clock.currentTimeMillis
          if (now - lastLog >= 30_000) {
            lastLog = now
            yield* Effect.logWarning(
              `${options.name}: could not write ${batch.length} rows (attempt ${attempt}, ${queueDepth()} waiting); retrying`,
              lastError
            )
          }
          yield* Effect.sleep(Duration.millis(delay))
          delay = Math.min(delay * 2, maxRetryDelay)
        }
      })

    const queueDepth = () => buffer.length + inflight

    const signal = () => {
      if (wake !== undefined) {
        Deferred.unsafeDone(wake, Effect.void)
        wake = undefined
      }
    }

    const hurryUp = () => {
      if (hurry !== undefined) {
        Deferred.unsafeDone(hurry, Effect.void)
        hurry = undefined
      }
    }

    const writer = Effect.gen(function*() {
      for (;;) {
        if (buffer.length === 0) {
          if (stopping) {
            closed = true
            return
          }
          const signalled = Deferred.unsafeMake<void>(yield* Effect.fiberId)
          wake = signalled
          yield* Deferred.await(signalled)
          continue
        }
        if (linger > 0 && !stopping && buffer.length < options.batchSize && awaitedThrough < buffer[0]![0]) {
          const hurried = Deferred.unsafeMake<void>(yield* Effect.fiberId)
          hurry = hurried
          yield* Effect.timeoutOption(Deferred.await(hurried), Duration.millis(linger))
          hurry = undefined
        }
        const batch = buffer.splice(0, options.batchSize)
        inflight = batch.length
        yield* writeBatch(batch.map(([, item]) => item))
        yield* settle(batch)
      }
    })

    const fiber = yield* Effect.forkDaemon(writer)

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        stopping = true
        signal()
        hurryUp()
        // Finalizers run uninterruptibly: the join must be interruptible for the timeout to cut it.
        const drained = yield* Effect.interruptible(Fiber.join(fiber)).pipe(
          Effect.timeoutOption(options.drainTimeout ?? Duration.seconds(10))
        )
        closed = true
        if (drained._tag === "None") {
          yield* Fiber.interrupt(fiber)
          const lost = queueDepth()
          failed += lost
          yield* Effect.logError(
            `${options.name}: shutting down with ${lost} rows not written`,
            lastError ?? "the database did not take them in time"
          )
        }
      })
    )

    const unsafeOffer = (item: A): number | undefined => {
      if (buffer.length < options.capacity && !closed) {
        const seq = nextSeq++
        buffer.push([seq, item])
        signal()
        return seq
      }
      dropped++
      droppedSinceLog++
      return undefined
    }

    const reportDropped: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (droppedSinceLog === 0 || now - lastDropLog < 10_000) return Effect.void
      lastDropLog = now
      const count = droppedSinceLog
      droppedSinceLog = 0
      return Effect.logWarning(
        closed
          ? `${options.name}: shutting down; ${count} rows not stored`
          : `${options.name}: the write queue is full (${options.capacity} rows); ${count} rows not stored` +
            (lastError ? `; the database: ${lastError}` : "")
      )
    })

    const offer = (item: A): Effect.Effect<number | undefined> =>
      Effect.suspend(() => {
        const seq = unsafeOffer(item)
        return seq === undefined ? Effect.as(reportDropped, undefined) : Effect.succeed(seq)
      })

    const awaitSettled = (seq: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (seq <= settledThrough) return Effect.void
        if (seq > awaitedThrough) awaitedThrough = seq
        hurryUp()
        return Effect.flatMap(Deferred.make<void>(), (done) => {
          waiters.push({ seq, done })
          return Deferred.await(done)
        })
      })

    return {
      offer,
      unsafeOffer,
      reportDropped,
      awaitSettled,
      flush: Effect.suspend(() => awaitSettled(nextSeq - 1)),
      stats: () => ({ depth: queueDepth(), capacity: options.capacity, written, dropped, failed }),
      lastError: () => lastError
    }
  })

import { Context, Effect, Layer } from "effect"

/** The write queue's counters since start. */
export interface WriteQueueStats {
  /** Rows waiting to be written (queued or in the batch being written). */
  readonly depth: number
  readonly capacity: number
  /** Rows written. */
  readonly written: number
  /** Rows refused because the queue was full. */
  readonly dropped: number
  /** Rows the database rejected for good (after retries), or still unwritten when shutdown gave up. */
  readonly failed: number
}

/** The state of the store, for `GET /ready` and metrics. */
export interface StoreStatus {
  /** `memory`, `sqlite` or `postgres`. */
  readonly backend: string
  /** Whether the database answered a trivial query just now. */
  readonly healthy: boolean
  /** The last database error, if the last write or check failed. */
  readonly lastError: string | null
  readonly queue: WriteQueueStats
}

/** Health and counters of the store behind stored completions, keys and usage. */
export class StoreHealth extends Context.Tag("@switchyard/service/StoreHealth")<StoreHealth, {
  /** Checks the database (with a short timeout) and reports the queue. */
  readonly status: Effect.Effect<StoreStatus>
  /** The queue's counters, without touching the database (cheap, for metrics). */
  readonly stats: () => WriteQueueStats
  /** Waits until the writes queued so far are settled (written, or given up). */
  readonly flush: Effect.Effect<void>
}>() {
  /** Always healthy: for the in-memory store. */
  static readonly layerMemory: Layer.Layer<StoreHealth> = Layer.succeed(StoreHealth, {
    status: Effect.succeed({
      backend: "memory",
      healthy: true,
      lastError: null,
      queue: { depth: 0, capacity: 0, written: 0, dropped: 0, failed: 0 }
    }),
    stats: () => ({ depth: 0, capacity: 0, written: 0, dropped: 0, failed: 0 }),
    flush: Effect.void
  })
}

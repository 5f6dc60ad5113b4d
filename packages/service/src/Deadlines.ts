/**
 * Where the policy's timeouts are enforced, behind one seam: by the
 * provider's transport (undici's timers: nothing per chunk, nothing per call
 * in Effect) for providers with `nativeTimeouts`, or by Effect timers on the
 * Effect clock (so `TestClock` drives them) for the others (echo, test).
 */
import { type GatewayError, UpstreamTimeout } from "@switchyard/core"
import { Effect } from "effect"
import type { CallTimeouts, ChunkPull } from "./Provider.js"
import type { ResiliencePolicy } from "./ResiliencePolicy.js"

/** The deadlines of one attempt, applied where the provider needs them. */
export interface Deadlines {
  /** The timeouts handed to the provider with each call (native providers enforce them), or none. */
  readonly call: CallTimeouts | undefined
  /** Bounds a whole non-streaming attempt. */
  readonly create: <A>(attempt: Effect.Effect<A, GatewayError>, vendor: string) => Effect.Effect<A, GatewayError>
  /**
   * Bounds a streamed attempt: opening it up to its first chunks, then each
   * pull of the rest against the idle and total deadlines.
   */
  readonly open: <A extends { readonly pull: ChunkPull }>(
    attempt: Effect.Effect<A, GatewayError>,
    vendor: string
  ) => Effect.Effect<A, GatewayError>
}

/** The policy's timeouts as a call's deadlines. */
export const callTimeouts = (policy: ResiliencePolicy): CallTimeouts => ({
  firstByteMs: policy.firstChunkTimeoutMs,
  idleMs: policy.idleTimeoutMs,
  totalMs: policy.totalTimeoutMs
})

/** Deadlines the provider's transport enforces: handed over with the call, nothing else to do. */
export const native = (policy: ResiliencePolicy): Deadlines => ({
  call: callTimeouts(policy),
  create: (attempt) => attempt,
  open: (attempt) => attempt
})

/** Deadlines enforced with Effect timers: one for the opening, one per pull after it. */
export const timers = (policy: ResiliencePolicy): Deadlines => {
  const total = policy.totalTimeoutMs
  const firstMs = Math.min(policy.firstChunkTimeoutMs, total)
  const firstPhase = policy.firstChunkTimeoutMs <= total ? "first_byte" : "total"

  /** One timer per pull covers both the idle and the total deadline. */
  const timedPull = (pull: ChunkPull, vendor: string, deadline: number): ChunkPull =>
    Effect.clockWith((clock) => {
      const remaining = deadline - clock.unsafeCurrentTimeMillis()
      const idle = policy.idleTimeoutMs <= remaining
      return Effect.timeoutFail(pull, {
        duration: Math.max(0, idle ? policy.idleTimeoutMs : remaining),
        onTimeout: () => new UpstreamTimeout({ vendor, phase: idle ? "idle" : "total", timeoutMs: idle ? policy.idleTimeoutMs : total })
      })
    })

  return {
    call: undefined,
    create: (attempt, vendor) =>
      Effect.timeoutFail(attempt, {
        duration: total,
        onTimeout: () => new UpstreamTimeout({ vendor, phase: "total", timeoutMs: total })
      }),
    open: (attempt, vendor) =>
      Effect.clockWith((clock) => {
        const deadline = clock.unsafeCurrentTimeMillis() + total
        return Effect.map(
          Effect.timeoutFail(attempt, {
            duration: firstMs,
            onTimeout: () => new UpstreamTimeout({ vendor, phase: firstPhase, timeoutMs: firstMs })
          }),
          (opened) => ({ ...opened, pull: timedPull(opened.pull, vendor, deadline) })
        )
      })
  }
}

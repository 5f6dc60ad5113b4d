import { Clock, Duration, Effect } from "effect"

/** A clock that a test moves by hand (`advance`); sleeps still wait in real time. */
export interface ManualClock extends Clock.Clock {
  readonly advance: (ms: number) => void
}

export const manualClock = (start = Date.now()): ManualClock => {
  let now = start
  const millis = () => now
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: millis,
    currentTimeMillis: Effect.sync(millis),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (duration) =>
      Effect.async<void>((resume) => {
        const timer = setTimeout(() => resume(Effect.void), Duration.toMillis(duration))
        return Effect.sync(() => clearTimeout(timer))
      }),
    advance: (ms) => {
      now += ms
    }
  }
}

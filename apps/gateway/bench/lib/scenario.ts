/**
 * A scenario: one section of the bench's output. Each lives in its own module
 * under `bench/scenarios/` and is listed in `bench/scenarios/index.ts`; run one
 * alone with `BENCH_ONLY=name` (several: `BENCH_ONLY=a,b`).
 */
import type { BenchContext } from "./context.js"

export interface Scenario {
  /** The name `BENCH_ONLY` selects it by. */
  readonly name: string
  /** The heading of its section. */
  readonly title: string
  /** Whether a plain `npm run bench` runs it (otherwise only when named in `BENCH_ONLY`). */
  readonly byDefault: boolean
  /** Measures, records figures in `ctx.results`, and returns its section (markdown). */
  readonly run: (ctx: BenchContext) => Promise<string>
}

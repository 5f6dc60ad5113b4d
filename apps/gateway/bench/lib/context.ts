/**
 * What a scenario gets: the settings of this run, the fake upstream, the
 * baselines measured so far (the bare relay and the upstream direct are
 * measured once per run and shared), and a place to record figures for the
 * goals checked at the end.
 */
import type { Direct, Measured } from "./measure.js"

/** How long and how hard this run measures. */
export interface Settings {
  readonly quick: boolean
  /** Seconds of each closed-loop run (`BENCH_DURATION`; 6, or 2 with --quick). */
  readonly seconds: number
  /** Seconds of each warm-up run. */
  readonly warmSeconds: number
  /** Seconds of each fixed-rate run (`BENCH_FIXED_DURATION`; 10, or 3 with --quick). */
  readonly fixedSeconds: number
  /** Closed-loop rounds per target, interleaved, averaged (`BENCH_ROUNDS`; 1). */
  readonly rounds: number
}

/** The shared state of a run. */
export interface BenchContext {
  readonly settings: Settings
  /** The fake upstream's OpenAI base (ending in /v1). */
  readonly upstreamV1: string
  readonly upstreamPid: number
  /** Progress, on stderr. */
  readonly log: (line: string) => void
  /** Figures by name (`headline.default.stream.share`, ...), read by the goals. */
  readonly results: Map<string, number>
  /** The bare relay, once measured. */
  relay?: Measured
  /** The upstream direct, once measured. */
  direct?: Direct
}

const number = (name: string, fallback: number): number => {
  const value = process.env[name]
  if (value === undefined || value.length === 0) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(value)}`)
  return n
}

/** The settings from the command line and the environment. */
export const settingsFrom = (argv: ReadonlyArray<string>): Settings => {
  const quick = argv.includes("--quick") || process.env.BENCH_QUICK === "1"
  return {
    quick,
    seconds: number("BENCH_DURATION", quick ? 2 : 6),
    warmSeconds: quick ? 1 : 2,
    fixedSeconds: number("BENCH_FIXED_DURATION", quick ? 3 : 10),
    rounds: Math.round(number("BENCH_ROUNDS", 1))
  }
}

/**
 * The performance goals (issue 15, and issue 8's floor), checked against the
 * figures the scenarios recorded. A goal whose figures were not measured in
 * this run (a scenario left out with BENCH_ONLY) is not shown.
 */
import type { BenchContext } from "./context.js"

interface Goal {
  readonly what: string
  readonly target: string
  /** The value shown, from the results; undefined when not measured. */
  readonly value: (r: (key: string) => number | undefined) => { shown: string; pass: boolean } | undefined
}

const get = (r: (key: string) => number | undefined, ...keys: Array<string>) => {
  const values = keys.map(r)
  return values.every((v) => v !== undefined && Number.isFinite(v)) ? (values as Array<number>) : undefined
}

/** A share of the relay's req/s (`<row>.<mode>.share`), shown with the share by CPU beside it. */
const share = (row: string, mode: "plain" | "stream", min: number): Goal["value"] => (r) => {
  const v = get(r, `${row}.${mode}.share`)
  const cpu = r(`${row}.${mode}.cpuShare`)
  return v && {
    shown: `${v[0]!.toFixed(0)}%${cpu !== undefined && Number.isFinite(cpu) ? ` (by CPU: ${cpu.toFixed(0)}%)` : ""}`,
    pass: v[0]! >= min
  }
}

const below = (key: string, max: number, unit: string): Goal["value"] => (r) => {
  const v = get(r, key)
  return v && { shown: `${v[0]!.toFixed(0)} ${unit}`, pass: v[0]! < max }
}

const withinRelay = (key: string, margin: number): Goal["value"] => (r) => {
  const v = get(r, `default.${key}`, `relay.${key}`)
  if (v === undefined) return undefined
  const gap = v[0]! - v[1]!
  return { shown: `${gap >= 0 ? "+" : ""}${gap.toFixed(2)} ms over the relay's`, pass: gap <= margin }
}

/** CPU per request a feature adds over the same build with it off (`<row>.addedPlainCpuUs`, `…StreamCpuUs`). */
const added = (row: string, max: number): Goal["value"] => (r) => {
  const v = get(r, `${row}.addedPlainCpuUs`, `${row}.addedStreamCpuUs`)
  return v && { shown: `${v[0]!.toFixed(0)} µs / ${v[1]!.toFixed(0)} µs`, pass: v[0]! < max && v[1]! < max }
}

const belowUs = (key: string, max: number): Goal["value"] => (r) => {
  const v = get(r, key)
  return v && { shown: `${v[0]!.toFixed(1)} µs`, pass: v[0]! < max }
}

const goals: ReadonlyArray<Goal> = [
  { what: "streaming req/s, share of the relay", target: "≥ 50% (issue 8 floor: 15%)", value: share("default", "stream", 50) },
  { what: "non-streaming req/s, share of the relay", target: "≥ 75% (issue 8 floor: 53%)", value: share("default", "plain", 75) },
  { what: "added time to first chunk, p50 @50/s", target: "within 0.3 ms of the relay's", value: withinRelay("added.ttfc", 0.3) },
  { what: "added latency, p50 @100/s", target: "within 0.3 ms of the relay's", value: withinRelay("added.p50", 0.3) },
  { what: "added latency, p99 @100/s", target: "within 1 ms of the relay's", value: withinRelay("added.p99", 1) },
  { what: "all features on: streaming share", target: "≥ 40%", value: share("features", "stream", 40) },
  { what: "all features on: non-streaming share", target: "≥ 60%", value: share("features", "plain", 60) },
  {
    what: "peak RSS through the bench (gateways)",
    target: "< 200 MB",
    value: (r) => {
      const values = ["default.peakMb", "features.peakMb", "slow.peakMb"].map(r).filter((v): v is number => v !== undefined)
      if (values.length === 0) return undefined
      const peak = Math.max(...values)
      return { shown: `${peak.toFixed(0)} MB`, pass: peak < 200 }
    }
  },
  {
    what: "concurrent slow streams without errors",
    target: "10,000",
    value: (r) => {
      const v = get(r, "slow.count", "slow.ok", "slow.failed")
      if (v === undefined) return undefined
      const [count, ok, failed] = v as [number, number, number]
      return { shown: `${ok} of ${count} ok, ${failed} failed`, pass: count >= 10_000 && failed === 0 && ok === count }
    }
  },
  {
    what: "a route with one target: CPU per request over the direct call's",
    target: "within noise (< +10%)",
    value: (r) => {
      const v = get(r, "routing.one.plain.cpuUs", "routing.direct.plain.cpuUs", "routing.one.stream.cpuUs", "routing.direct.stream.cpuUs")
      if (v === undefined) return undefined
      const [one, direct, oneStream, directStream] = v as [number, number, number, number]
      const plain = 100 * (one / direct - 1)
      const stream = 100 * (oneStream / directStream - 1)
      const sign = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(0)}%`
      return { shown: `${sign(plain)} / ${sign(stream)} (stream)`, pass: plain < 10 && stream < 10 }
    }
  },
  ...(["sqlite", "pg"] as const).map((db): Goal => ({
    what: `\`store: true\` on ${db === "sqlite" ? "SQLite" : "PostgreSQL"}: CPU per request over without`,
    target: "< +10%",
    value: (r) => {
      const v = get(r, `store.${db}.on.plain.cpuUs`, `store.${db}.off.plain.cpuUs`)
      if (v === undefined) return undefined
      const more = 100 * (v[0]! / v[1]! - 1)
      return { shown: `${more >= 0 ? "+" : ""}${more.toFixed(0)}%`, pass: more < 10 }
    }
  })),
  { what: "metrics on: added CPU per request (direct)", target: "< 15 µs", value: belowUs("obs.direct.metrics", 15) },
  { what: "tracing at 100%, protobuf: added CPU per request (direct)", target: "< 60 µs", value: belowUs("obs.direct.tracing", 60) },
  { what: "metrics on: added CPU per request, whole gateway (plain / stream; noisy)", target: "< 15 µs", value: added("obs.metrics", 15) },
  { what: "tracing at 100%: added CPU per request, whole gateway (plain / stream; noisy)", target: "< 60 µs", value: added("obs.tracing", 60) },
  { what: "limits in memory: added CPU per request (direct)", target: "< 15 µs", value: belowUs("limits.direct.memory", 15) },
  {
    what: "limits in Redis: added p50 (one round trip, direct)",
    target: "< 150 µs",
    value: (r) => {
      const v = get(r, "limits.direct.redisP50Us")
      return v && { shown: `${v[0]!.toFixed(0)} µs`, pass: v[0]! < 150 }
    }
  },
  { what: "`switchyard --version`", target: "< 150 ms", value: below("cli.version", 150, "ms") },
  { what: "`switchyard chat \"hi\" -m echo/x`, first token", target: "< 300 ms", value: below("cli.chat.first", 300, "ms") }
]

/** The goals table (markdown), or undefined when nothing it covers was measured. */
export const renderGoals = (ctx: BenchContext): string | undefined => {
  const r = (key: string) => ctx.results.get(key)
  const rows = goals.flatMap((goal) => {
    const value = goal.value(r)
    return value === undefined ? [] : [`| ${goal.what} | ${value.shown} | ${goal.target} | ${value.pass ? "PASS" : "FAIL"} |`]
  })
  if (rows.length === 0) return undefined
  return ["| goal | measured | target | |", "|---|---|---|---|", ...rows].join("\n")
}

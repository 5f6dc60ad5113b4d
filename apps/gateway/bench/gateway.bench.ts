/**
 * The gateway benchmark. A fake upstream (bench/upstream.mjs), the bare relay
 * (bench/bare-relay.mjs) and the gateway run in their own processes: the
 * relay and the gateways pinned to core 0, the upstream, the load generator
 * and this process to core 1 (with taskset, on two cores or more). It prints
 * markdown: one section per scenario (bench/scenarios/), then the goals.
 *
 *   npm run bench                          builds first; about 3 minutes
 *   npm run bench -- --quick               a smoke run: short phases, 1,000 slow streams
 *   BENCH_ONLY=headline npm run bench      only some scenarios (comma-separated names)
 *   BENCH_ONLY=api-keys npm run bench      a scenario that is not in the default run
 *
 * Settings: BENCH_DURATION (s per closed-loop run), BENCH_FIXED_DURATION (s per
 * fixed-rate run), BENCH_ROUNDS, BENCH_LOADGEN=wrk|autocannon (default: wrk when
 * installed), BENCH_SLOW_STREAMS, BENCH_CLI_RUNS, BENCH_FEATURES_ENV /
 * BENCH_FEATURES_CONFIG / BENCH_FEATURES_MODEL (see bench/features.ts),
 * BENCH_GATEWAY_ENTRY (another build of the gateway to measure).
 */
import { cpus } from "node:os"
import { type BenchContext, settingsFrom } from "./lib/context.js"
import { renderGoals } from "./lib/goals.js"
import { loadGenerator } from "./lib/load.js"
import { CORE_LOAD, here, pinned, pinSelf, startNode } from "./lib/processes.js"
import { scenarios } from "./scenarios/index.js"

const settings = settingsFrom(process.argv.slice(2))
const only = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0)
const unknown = only.filter((name) => !scenarios.some((s) => s.name === name))
if (unknown.length > 0) {
  console.error(`BENCH_ONLY: unknown scenario ${unknown.join(", ")}; known: ${scenarios.map((s) => s.name).join(", ")}`)
  process.exit(2)
}
const selected = scenarios.filter((s) => only.length === 0 ? s.byDefault : only.includes(s.name))

pinSelf()
const upstream = await startNode({ name: "upstream", core: CORE_LOAD, args: [here("upstream.mjs"), "0"], ready: /^(\d+)$/m })
const ctx: BenchContext = {
  settings,
  upstreamV1: `${upstream.url}/v1`,
  upstreamPid: upstream.child.pid!,
  log: (line) => console.error(line),
  results: new Map()
}

console.log(`# Switchyard gateway benchmark\n`)
console.log(
  `${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"}); ` +
    (pinned ? "gateway/relay on core 0; upstream, load generator and driver on core 1" : "not pinned (no taskset or one core)") +
    `; load generator: ${loadGenerator}; ${settings.seconds} s per run at 64 connections, ${settings.fixedSeconds} s per fixed-rate run` +
    (settings.rounds > 1 ? `, ${settings.rounds} rounds` : "") + (settings.quick ? " (--quick)" : "") + "."
)

let failed = false
for (const scenario of selected) {
  try {
    const section = await scenario.run(ctx)
    console.log(`\n## ${scenario.title}\n\n${section}`)
  } catch (error) {
    failed = true
    console.log(`\n## ${scenario.title}\n\nFailed: ${error instanceof Error ? error.message : String(error)}`)
    console.error(error)
  }
}
const goals = renderGoals(ctx)
if (goals !== undefined) console.log(`\n## Goals (issue 15)\n\n${goals}`)
upstream.stop()
process.exit(failed ? 1 : 0)

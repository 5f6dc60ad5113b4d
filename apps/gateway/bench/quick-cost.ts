/**
 * A quick A/B of the gateway's CPU per request, without the profiler: the
 * gateway (and the bare relay) under 64 connections, non-streaming and
 * streaming, least of PROFILE_ROUNDS (3) interleaved runs of 3 s each.
 *
 *   cd apps/gateway && npm run build && npx tsx bench/quick-cost.ts
 *   QUICK_ENV='{"SWITCHYARD_METRICS_ENABLED":"false"}' npx tsx bench/quick-cost.ts   (extra gateway environment)
 *   QUICK_BASE=dist-base/bundle/bin.js npx tsx bench/quick-cost.ts   (another build beside it, interleaved)
 *   QUICK_BASE_ENV='{"SWITCHYARD_METRICS_ENABLED":"false"}' npx tsx bench/quick-cost.ts   (the same build, another setting)
 *
 * QUICK_CONNECTIONS (64) sets the load's connections.
 *
 * What one change costs or saves, in a minute; `npm run bench` stays the measure of record.
 */
import { throughput } from "./lib/load.js"
import { CORE_LOAD, CORE_UNDER_TEST, here, pinSelf, procStats, startNode } from "./lib/processes.js"
import { freshDataDir, relay, startFlags, startTarget } from "./lib/targets.js"

const rounds = Number(process.env.PROFILE_ROUNDS ?? 3)
const connections = Number(process.env.QUICK_CONNECTIONS ?? 64)
const entry = here(`../${process.env.PROFILE_ENTRY ?? "dist/bin.js"}`)
pinSelf()
const upstream = await startNode({ name: "upstream", core: CORE_LOAD, args: [here("upstream.mjs"), "0"], ready: /^(\d+)$/m })
const upstreamV1 = `${upstream.url}/v1`
const startGateway = (name: string, entry: string, extraEnv: Record<string, string> = {}) => startNode({
  name,
  core: CORE_UNDER_TEST,
  nodeOptions: [...startFlags],
  args: [entry, "serve", "--port", "0"],
  env: {
    OPENAI_BASE_URL: upstreamV1,
    OPENAI_API_KEY: "sk-bench",
    SWITCHYARD_API_KEYS: "bench-key",
    SWITCHYARD_SHUTDOWN_GRACE_MS: "0",
    // Each its own database: two gateways on one SQLite file would wait on each other's locks.
    SWITCHYARD_DATA_DIR: freshDataDir(),
    ...JSON.parse(process.env.QUICK_ENV ?? "{}"),
    ...extraEnv
  },
  ready: /listening on (http:\/\/[\d.:]+)/,
  quietStdout: true
})
const gateway = await startGateway("gateway", entry)
const base = process.env.QUICK_BASE === undefined && process.env.QUICK_BASE_ENV === undefined
  ? undefined
  : await startGateway("base", here(`../${process.env.QUICK_BASE ?? process.env.PROFILE_ENTRY ?? "dist/bin.js"}`), JSON.parse(process.env.QUICK_BASE_ENV ?? "{}"))
const relayTarget = await startTarget(relay, upstreamV1)
const targets = [
  { name: "gateway", base: `${gateway.url}/v5`, pid: gateway.child.pid! },
  ...(base === undefined ? [] : [{ name: "base", base: `${base.url}/v5`, pid: base.child.pid! }]),
  { name: "relay", base: relayTarget.base, pid: relayTarget.pid }
]
const cost = async (target: (typeof targets)[number], stream: boolean) => {
  const before = procStats(target.pid).cpuMs
  const result = await throughput(target.base, { stream, seconds: 3, model: "openai/bench", connections })
  if (result.errors > 0) throw new Error(`${result.errors} errors`)
  return { us: ((procStats(target.pid).cpuMs - before) * 1000) / result.total, rps: result.total / 3 }
}
for (const target of targets) for (const stream of [false, true]) await throughput(target.base, { stream, seconds: 1, model: "openai/bench" })
const best = new Map<string, { us: number; rps: number }>()
for (let round = 0; round < rounds; round++) {
  for (const target of targets) {
    for (const stream of [false, true]) {
      const k = `${target.name} ${stream ? "stream" : "json"}`
      const got = await cost(target, stream)
      const known = best.get(k)
      if (known === undefined || got.us < known.us) best.set(k, got)
    }
  }
}
for (const [k, v] of best) console.log(`${k.padEnd(16)} ${v.us.toFixed(0).padStart(6)} µs CPU/req  ${v.rps.toFixed(0).padStart(6)} req/s`)
for (const target of targets) console.log(`${target.name.padEnd(16)} peak RSS ${procStats(target.pid).peakMb.toFixed(0)} MB`)
const share = (kind: string) => (100 * best.get(`relay ${kind}`)!.us / best.get(`gateway ${kind}`)!.us).toFixed(0)
console.log(`share by CPU: json ${share("json")}%  stream ${share("stream")}%`)
gateway.stop()
base?.stop()
relayTarget.process.stop()
upstream.stop()
process.exit(0)

/**
 * Where the gateway's time goes under streaming load: a CPU profile of the
 * gateway, summarised.
 *
 *   cd apps/gateway && npm run build
 *   npx tsx bench/profile-streaming.ts                 20-chunk streams (each arrives in one read)
 *   PROFILE_MODEL=openai/drip-20 npx tsx bench/profile-streaming.ts   20 chunks, one read each
 *   PROFILE_STREAM=0 npx tsx bench/profile-streaming.ts                non-streaming requests
 *
 * It starts the fake upstream (core 1) and the gateway under
 * `node --cpu-prof` (core 0; the compiled modules in dist/, not the bundle, so
 * that each function's package shows; PROFILE_ENTRY=bin/switchyard.js profiles
 * the bundle), warms it up, drives 64 connections for PROFILE_SECONDS (10),
 * stops it with SIGTERM (the profile is written on exit) and prints:
 * - the CPU per stream of the gateway and the relay, without the profiler,
 *   for 2-chunk and 100-chunk streams, whose chunks arrive all at once or one
 *   read each: the slope is the cost per chunk, the intercept the cost per
 *   request (about 80 s; skip with PROFILE_COST=0);
 * - self time by group (SSE parse, JSON.parse, encode, Effect runtime,
 *   undici, node:http, socket writes, GC, ...) in µs per request, over the
 *   load window only;
 * - the top functions by self time, and the gateway's and service's own
 *   functions by inclusive time (what runs under them; asynchronous
 *   continuations are not under their caller, so this undercounts).
 * The .cpuprofile stays in PROFILE_DIR (a new temporary folder) for
 * Chrome DevTools or speedscope. PROFILE_INTERVAL sets the sampling interval
 * in µs (default 200).
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { throughput } from "./lib/load.js"
import { CORE_LOAD, CORE_UNDER_TEST, here, pinSelf, procStats, startNode } from "./lib/processes.js"
import { relay, type RunningTarget, startFlags, startTarget } from "./lib/targets.js"

const seconds = Number(process.env.PROFILE_SECONDS ?? 10)
const stream = process.env.PROFILE_STREAM !== "0"
const model = process.env.PROFILE_MODEL ?? "openai/bench"
const entry = here(`../${process.env.PROFILE_ENTRY ?? "dist/bin.js"}`)
const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), "switchyard-profile-"))
const interval = Number(process.env.PROFILE_INTERVAL ?? 200)

pinSelf()
const upstream = await startNode({ name: "upstream", core: CORE_LOAD, args: [here("upstream.mjs"), "0"], ready: /^(\d+)$/m })
const upstreamV1 = `${upstream.url}/v1`
const gatewayEnv = {
  OPENAI_BASE_URL: upstreamV1,
  OPENAI_API_KEY: "sk-bench",
  SWITCHYARD_API_KEYS: "bench-key",
  SWITCHYARD_SHUTDOWN_GRACE_MS: "0"
}

/** CPU per stream of a target for some model's streams, from /proc (no profiler). */
const cpuPerStream = async (target: { base: string; pid: number }, model: string) => {
  const before = procStats(target.pid).cpuMs
  const result = await throughput(target.base, { stream: true, seconds: 3, model })
  if (result.errors > 0) throw new Error(`${result.errors} errors with ${model}`)
  return ((procStats(target.pid).cpuMs - before) * 1000) / result.total
}

if (process.env.PROFILE_COST !== "0") {
  // "burst": the upstream writes all chunks at once (the gateway reads them in one or a few reads);
  // "drip": one write per chunk (one read per chunk, as from a model producing tokens).
  const shapes = [["burst", "chunks"], ["drip", "drip"]] as const
  const sizes = [2, 100] as const
  console.log("## Cost model (CPU µs per stream, no profiler; 64 connections; least of 3 interleaved runs)\n")
  console.log("| target | chunks arrive | 2 chunks | 100 chunks | per chunk | per stream (intercept) |")
  console.log("|---|---|---|---|---|---|")
  const plainGateway = await startNode({
    name: "gateway",
    core: CORE_UNDER_TEST,
    nodeOptions: [...startFlags],
    args: [entry, "serve", "--port", "0"],
    env: gatewayEnv,
    ready: /listening on (http:\/\/[\d.:]+)/,
    quietStdout: true
  })
  const relayTarget: RunningTarget = await startTarget(relay, upstreamV1)
  const targets = [
    { name: "gateway", base: `${plainGateway.url}/v5`, pid: plainGateway.child.pid!, stop: plainGateway.stop },
    { name: "bare relay", base: relayTarget.base, pid: relayTarget.pid, stop: relayTarget.process.stop }
  ]
  const runs = new Map<string, Array<number>>()
  const key = (target: string, shape: string, size: number) => `${target} ${shape} ${size}`
  for (const target of targets) {
    for (const [, model] of shapes) for (const size of sizes) await throughput(target.base, { stream: true, seconds: 1, model: `openai/${model}-${size}` })
  }
  for (let round = 0; round < 3; round++) {
    for (const target of targets) {
      for (const [shape, model] of shapes) {
        for (const size of sizes) {
          const k = key(target.name, shape, size)
          runs.set(k, [...(runs.get(k) ?? []), await cpuPerStream(target, `openai/${model}-${size}`)])
        }
      }
    }
  }
  for (const target of targets) {
    for (const [shape] of shapes) {
      const two = Math.min(...runs.get(key(target.name, shape, 2))!)
      const hundred = Math.min(...runs.get(key(target.name, shape, 100))!)
      const slope = (hundred - two) / 98
      console.log(
        `| ${target.name} | ${shape} | ${two.toFixed(0)} | ${hundred.toFixed(0)} | ${slope.toFixed(1)} | ${(two - 2 * slope).toFixed(0)} |`
      )
    }
    target.stop()
  }
  console.log()
}

const gateway = await startNode({
  name: "gateway (profiled)",
  core: CORE_UNDER_TEST,
  nodeOptions: [...startFlags, "--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${interval}`],
  args: [entry, "serve", "--port", "0"],
  env: gatewayEnv,
  ready: /listening on (http:\/\/[\d.:]+)/,
  quietStdout: true
})
const base = `${gateway.url}/v5`
const pid = gateway.child.pid!
console.error(`warming up, then ${seconds} s of ${stream ? `streams (${model})` : "non-streaming requests"} at 64 connections…`)
await throughput(base, { stream, seconds: 3, model })
const nowUs = () => Number(process.hrtime.bigint() / 1000n)
const from = nowUs()
const cpuBefore = procStats(pid).cpuMs
const result = await throughput(base, { stream, seconds, model })
const cpuMs = procStats(pid).cpuMs - cpuBefore
const to = nowUs()
const exited = new Promise<void>((resolve) => gateway.child.once("exit", () => resolve()))
gateway.child.kill("SIGTERM")
await exited
upstream.stop()

const file = readdirSync(dir)
  .filter((name) => name.endsWith(".cpuprofile"))
  .map((name) => join(dir, name))
  .sort((a, b) => statSync(b).size - statSync(a).size)[0]
if (file === undefined) throw new Error(`no profile was written in ${dir}`)

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

/** The groups, tried on the sampled frame and then on its callers, nearest first. */
const rules: ReadonlyArray<readonly [string, (frame: CallFrame) => boolean]> = [
  ["GC", (f) => f.functionName === "(garbage collector)"],
  ["idle", (f) => f.functionName === "(idle)"],
  ["JSON.parse", (f) => f.url === "" && f.functionName === "parse"],
  ["JSON.stringify / SSE encode", (f) => (f.url === "" && f.functionName === "stringify") || /core\/(dist|src)\/Sse\.[jt]s$/.test(f.url) && /encode/i.test(f.functionName)],
  ["SSE parse (decoder, chunk checks)", (f) => /core\/(dist|src)\/Sse\.[jt]s$/.test(f.url) || /ChunkStream\.[jt]s$/.test(f.url) || /looksLikeChunk/.test(f.functionName)],
  ["socket writes (native)", (f) => f.url === "" && /^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString|writeUcs2String)$/.test(f.functionName)],
  ["Schema (request validation)", (f) => /effect\/dist\/.*(Schema|ParseResult|SchemaAST)/i.test(f.url)],
  ["Effect runtime (fibers, scopes, ...)", (f) => /\/effect\/dist\//.test(f.url)],
  ["@effect/platform", (f) => /@effect\/platform/.test(f.url)],
  ["undici (upstream HTTP)", (f) => /\/undici\//.test(f.url)],
  ["node:http (server, response)", (f) => /^node:_http_/.test(f.url)],
  ["node:net / streams / events", (f) => /^node:(net|stream|internal\/streams|events|internal\/stream_base_commons|buffer|internal\/webstreams)/.test(f.url)],
  ["node: timers, microtasks, async hooks", (f) => /^node:(internal\/timers|timers|internal\/process\/task_queues|internal\/async_hooks)/.test(f.url)],
  ["gateway + service code", (f) => /\/(apps\/gateway|packages\/(service|core))\//.test(f.url)],
  ["other node internals", (f) => f.url.startsWith("node:")],
  ["(program): native, not attributed", (f) => f.functionName === "(program)"]
]

const groupOf = (id: number): string => {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)!.callFrame
    for (const [name, test] of rules) if (test(frame)) return name
  }
  return "other"
}

const label = (frame: CallFrame) =>
  `${frame.functionName || "(anonymous)"} ${
    frame.url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*?\/(apps|packages)\//, "$1/")
  }:${frame.lineNumber + 1}`
const ours = (frame: CallFrame) => /\/(apps\/gateway|packages\/(service|core))\//.test(frame.url)

const groupTime = new Map<string, number>()
const selfTime = new Map<string, number>()
const inclusiveTime = new Map<string, number>()
let total = 0
let t = profile.startTime
const inWindow = profile.startTime <= to && from <= profile.startTime + profile.timeDeltas.reduce((a, b) => a + b, 0)
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!
  if (inWindow && (t < from || t > to)) continue
  const id = profile.samples[i]!
  const dt = profile.timeDeltas[i + 1] ?? 0
  const frame = byId.get(id)!.callFrame
  if (frame.functionName === "(idle)") continue
  total += dt
  const group = groupOf(id)
  groupTime.set(group, (groupTime.get(group) ?? 0) + dt)
  const name = label(frame)
  selfTime.set(name, (selfTime.get(name) ?? 0) + dt)
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const caller = byId.get(at)!.callFrame
    if (!ours(caller)) continue
    const callerName = label(caller)
    if (seen.has(callerName)) continue
    seen.add(callerName)
    inclusiveTime.set(callerName, (inclusiveTime.get(callerName) ?? 0) + dt)
  }
}

const requests = result.total
const perRequest = (us: number) => (us / requests).toFixed(1)
console.log(`## Profile: ${stream ? `streams (${model})` : "non-streaming"}, 64 connections, ${seconds} s\n`)
console.log(
  `${requests} requests (${result.rps.toFixed(0)}/s, ${result.errors} errors); gateway CPU ${((cpuMs * 1000) / requests).toFixed(0)} µs per request ` +
    `with the profiler on; ${(total / 1000).toFixed(0)} ms of samples ${inWindow ? "in the load window" : "(whole profile: clocks did not line up)"}.\n`
)
console.log("| group | share of CPU | µs per request |")
console.log("|---|---|---|")
for (const [group, us] of [...groupTime].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${group} | ${((100 * us) / total).toFixed(1)}% | ${perRequest(us)} |`)
}
console.log("\n| top functions by self time | share | µs per request |")
console.log("|---|---|---|")
for (const [name, us] of [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 30))) {
  console.log(`| ${name.replace(/\|/g, "\\|")} | ${((100 * us) / total).toFixed(1)}% | ${perRequest(us)} |`)
}
console.log("\n| our functions by inclusive time (self + callees, as seen on the stack) | share | µs per request |")
console.log("|---|---|---|")
for (const [name, us] of [...inclusiveTime].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`| ${name.replace(/\|/g, "\\|")} | ${((100 * us) / total).toFixed(1)}% | ${perRequest(us)} |`)
}
console.log(`\nProfile: ${file}`)
process.exit(0)

/**
 * The gateway benchmark: a fake upstream and the gateway in their own
 * processes (each pinned to a core where `taskset` exists), driven by
 * autocannon. Prints req/s and latency direct to the upstream, through a bare
 * node:http + undici relay (the reference), and through the gateway; added
 * latency at a fixed 100 req/s; added time to first chunk; CPU per request;
 * RSS idle and peak; 1,000 concurrent slow streams.
 *
 *   npm run bench            (builds first; takes about 2 minutes)
 */
import autocannon from "autocannon"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import * as http from "node:http"
import { fileURLToPath } from "node:url"

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const DURATION = Number(process.env.BENCH_DURATION ?? 6)
const taskset = existsSync("/usr/bin/taskset") ? "/usr/bin/taskset" : undefined
const cores = (await import("node:os")).availableParallelism()
const pinned = taskset !== undefined && cores >= 2
if (pinned) spawn(taskset!, ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" })

interface Started {
  readonly child: ChildProcess
  readonly url: string
}

const start = (name: string, core: number, args: Array<string>, env: Record<string, string>, pattern: RegExp) =>
  new Promise<Started>((resolve, reject) => {
    const command = pinned ? taskset! : process.execPath
    const argv = pinned ? ["-c", String(core), process.execPath, ...args] : args
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = pattern.exec(output)
      if (match) {
        child.stdout!.off("data", onData)
        child.stderr!.off("data", onData)
        child.stdout!.resume()
        child.stderr!.resume()
        resolve({ child, url: match[1]!.startsWith("http") ? match[1]! : `http://127.0.0.1:${match[1]}` })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code}: ${output}`)))
  })

const proc = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { cpuMs: (Number(stat[11]) + Number(stat[12])) * 10, rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 }
}

const body = (stream: boolean, model = "openai/bench") =>
  JSON.stringify({
    model,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Say hello in a friendly way, please." }
    ],
    temperature: 0.7,
    ...(stream ? { stream: true } : {})
  })

const load = async (url: string, options: { stream: boolean; connections?: number; rate?: number; duration?: number }) => {
  const result = await autocannon({
    url: `${url}/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer bench-key" },
    body: body(options.stream),
    connections: options.connections ?? 64,
    duration: options.duration ?? DURATION,
    ...(options.rate !== undefined ? { overallRate: options.rate } : {})
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx
  }
}

const firstChunk = (url: string) =>
  new Promise<number>((resolve, reject) => {
    const started = performance.now()
    const req = http.request(`${url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer bench-key" }
    }, (res) => {
      let seen = false
      res.on("data", () => {
        if (!seen) {
          seen = true
          resolve(performance.now() - started)
        }
      })
      res.on("end", () => seen || reject(new Error("no data")))
    })
    req.on("error", reject)
    req.end(body(true))
  })

/** Requests at a fixed rate on keep-alive connections, timed with sub-millisecond precision. */
const fixedRate = async (url: string, rate: number, seconds: number) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  const samples: Array<number> = []
  let errors = 0
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now()
      const req = http.request(`${url}/chat/completions`, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", authorization: "Bearer bench-key" }
      }, (res) => {
        res.resume()
        res.on("end", () => {
          if (res.statusCode === 200) samples.push(performance.now() - started)
          else errors++
          resolve()
        })
      })
      req.on("error", () => {
        errors++
        resolve()
      })
      req.end(body(false))
    })
  const pending: Array<Promise<void>> = []
  const interval = 1000 / rate
  const begin = performance.now()
  for (let i = 0; i < rate * seconds; i++) {
    const wait = begin + i * interval - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    pending.push(one())
  }
  await Promise.all(pending)
  agent.destroy()
  const warm = samples.slice(rate)
  return { p50: percentile(warm, 0.5), p99: percentile(warm, 0.99), errors }
}

const percentile = (values: Array<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!
}

const ttfb = async (url: string, n = 300) => {
  const samples: Array<number> = []
  for (let i = 0; i < n; i++) {
    samples.push(await firstChunk(url))
    await new Promise((r) => setTimeout(r, 10))
  }
  return { p50: percentile(samples.slice(20), 0.5), p99: percentile(samples.slice(20), 0.99) }
}

const slowStreams = (url: string, count: number) =>
  new Promise<{ ok: number; failed: number }>((resolve) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
    let ok = 0
    let failed = 0
    const done = () => ok + failed === count && resolve({ ok, failed })
    for (let i = 0; i < count; i++) {
      const req = http.request(`${url}/chat/completions`, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", authorization: "Bearer bench-key" }
      }, (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (d) => (text += d))
        res.on("end", () => {
          if (res.statusCode === 200 && text.endsWith("data: [DONE]\n\n")) ok++
          else failed++
          done()
        })
        res.on("error", () => {
          failed++
          done()
        })
      })
      req.on("error", () => {
        failed++
        done()
      })
      req.end(body(true, "openai/slow"))
    }
  })

const main = async () => {
  const upstream = await start("upstream", 1, [here("./upstream.mjs"), "0"], {}, /^(\d+)$/m)
  const upstreamV1 = `${upstream.url}/v1`
  // As `npm start` runs it: a 512 MB old-space cap keeps V8 collecting before RSS balloons.
  const gateway = await start("gateway", 0, ["--max-old-space-size=512", here("../bin/switchyard.js"), "serve", "--port", "0"], {
    OPENAI_BASE_URL: upstreamV1,
    OPENAI_API_KEY: "sk-bench",
    SWITCHYARD_API_KEYS: "bench-key"
  }, /listening on (http:\/\/[\d.:]+)/)
  const relay = await start("bare relay", 0, [here("./bare-relay.mjs"), "0", upstreamV1], {}, /^(\d+)$/m)
  const gatewayV5 = `${gateway.url}/v5`
  const gatewayPid = gateway.child.pid!
  await new Promise((r) => setTimeout(r, 1_000))
  const idle = proc(gatewayPid)

  console.error(`warming up (${pinned ? "gateway and relay on core 0, upstream and load on core 1" : "not pinned"})…`)
  await load(gatewayV5, { stream: false, duration: 2 })
  await load(gatewayV5, { stream: true, duration: 2 })
  await load(relay.url + "/v1", { stream: false, duration: 1 })

  const rows: Array<Array<string>> = []
  const row = (...cells: Array<string | number>) => rows.push(cells.map(String))
  const fmt = (n: number, digits = 0) => n.toFixed(digits)

  const runs: Record<string, Awaited<ReturnType<typeof load>>> = {}
  const cpu: Record<string, number> = {}
  for (const stream of [false, true]) {
    const kind = stream ? "stream (20 chunks)" : "non-streaming"
    console.error(`${kind}: direct…`)
    runs[`direct ${kind}`] = await load(upstreamV1, { stream })
    console.error(`${kind}: bare relay…`)
    runs[`bare relay ${kind}`] = await load(relay.url + "/v1", { stream })
    console.error(`${kind}: gateway…`)
    const before = proc(gatewayPid)
    runs[`gateway ${kind}`] = await load(gatewayV5, { stream })
    const after = proc(gatewayPid)
    cpu[kind] = ((after.cpuMs - before.cpuMs) * 1000) / runs[`gateway ${kind}`]!.total
  }

  console.error("fixed 100 req/s…")
  const directFixed = await fixedRate(upstreamV1, 100, 10)
  const gatewayFixed = await fixedRate(gatewayV5, 100, 10)
  console.error("time to first chunk…")
  const directTtfb = await ttfb(upstreamV1)
  const gatewayTtfb = await ttfb(gatewayV5)
  console.error("1,000 concurrent slow streams…")
  const slow = await slowStreams(gatewayV5, 1_000)
  const peak = proc(gatewayPid)

  console.log("\n## Throughput at 64 connections\n")
  console.log("| target | mode | req/s | p50 ms | p99 ms | errors | share of upstream |")
  console.log("|---|---|---|---|---|---|---|")
  for (const [name, r] of Object.entries(runs)) {
    const kind = name.includes("stream (") ? "stream (20 chunks)" : "non-streaming"
    const direct = runs[`direct ${kind}`]!
    console.log(`| ${name.replace(` ${kind}`, "")} | ${kind} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${fmt((100 * r.rps) / direct.rps)}% |`)
  }
  const share = (runs["gateway non-streaming"]!.rps / runs["direct non-streaming"]!.rps) * 100
  row("gateway share of upstream req/s (non-streaming, 64 conn)", `${fmt(share, 1)}%`, "≥ 15%", share >= 15 ? "PASS" : "FAIL")
  const addedP50 = gatewayFixed.p50 - directFixed.p50
  const addedP99 = gatewayFixed.p99 - directFixed.p99
  row("added latency at 100 req/s, p50", `${fmt(addedP50, 2)} ms`, "< 2 ms", addedP50 < 2 ? "PASS" : "FAIL")
  row("added latency at 100 req/s, p99", `${fmt(addedP99, 2)} ms`, "< 8 ms", addedP99 < 8 ? "PASS" : "FAIL")
  const addedTtfb = gatewayTtfb.p50 - directTtfb.p50
  row("added time to first chunk, p50", `${fmt(addedTtfb, 2)} ms`, "< 2 ms", addedTtfb < 2 ? "PASS" : "FAIL")
  row("gateway CPU per request (non-streaming)", `${fmt(cpu["non-streaming"]!)} µs`, "< 600 µs", cpu["non-streaming"]! < 600 ? "PASS" : "FAIL")
  row("gateway CPU per request (stream, 20 chunks)", `${fmt(cpu["stream (20 chunks)"]!)} µs`, "-", "")
  row("gateway RSS idle", `${fmt(idle.rssMb)} MB`, "-", "")
  row("gateway RSS peak", `${fmt(peak.peakMb)} MB`, "< 300 MB", peak.peakMb < 300 ? "PASS" : "FAIL")
  row("1,000 concurrent slow streams (2 s each)", `${slow.ok} ok, ${slow.failed} failed`, "no error", slow.failed === 0 ? "PASS" : "FAIL")
  console.log("\n## Targets\n")
  console.log("| measure | value | target | |")
  console.log("|---|---|---|---|")
  for (const cells of rows) console.log(`| ${cells.join(" | ")} |`)
  console.log(
    `\nLatency at a fixed 100 req/s: direct p50 ${fmt(directFixed.p50, 2)} ms / p99 ${fmt(directFixed.p99, 2)} ms; ` +
      `gateway p50 ${fmt(gatewayFixed.p50, 2)} ms / p99 ${fmt(gatewayFixed.p99, 2)} ms.`
  )
  console.log(
    `Time to first chunk (sequential): direct p50 ${fmt(directTtfb.p50, 2)} ms / p99 ${fmt(directTtfb.p99, 2)} ms; ` +
      `gateway p50 ${fmt(gatewayTtfb.p50, 2)} ms / p99 ${fmt(gatewayTtfb.p99, 2)} ms.`
  )
  for (const child of [upstream.child, gateway.child, relay.child]) child.kill("SIGTERM")
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})

/**
 * Load generation: closed-loop throughput at N connections (wrk when it is
 * installed, autocannon otherwise; `BENCH_LOADGEN=wrk|autocannon` forces one),
 * and open-loop requests at a fixed rate, timed in this process with
 * sub-millisecond precision (latency, and time to the first chunk of a stream).
 */
import autocannon from "autocannon"
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CORE_LOAD, onCore } from "./processes.js"

/** The API key every target accepts. */
export const BENCH_KEY = "bench-key"

/** Fields a target adds to every request (`store: true`, `metadata`, …). */
export type ExtraFields = Readonly<Record<string, unknown>> | undefined

/** The benchmark's request: a short conversation, streamed or not, with a target's extra fields. */
export const requestBody = (stream: boolean, model: string = "openai/bench", extra: ExtraFields = undefined): string =>
  JSON.stringify({
    model,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Say hello in a friendly way, please." }
    ],
    temperature: 0.7,
    ...(stream ? { stream: true } : {}),
    ...extra
  })

const headers = { "content-type": "application/json", authorization: `Bearer ${BENCH_KEY}` }

const wrkPath = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
})()

/** The load generator in use. */
export const loadGenerator: "wrk" | "autocannon" = (() => {
  const wanted = process.env.BENCH_LOADGEN
  if (wanted === "autocannon") return "autocannon"
  if (wanted === "wrk" && wrkPath === undefined) throw new Error("BENCH_LOADGEN=wrk, but wrk is not installed")
  return wrkPath !== undefined ? "wrk" : "autocannon"
})()

/** The outcome of a closed-loop run. */
export interface Throughput {
  readonly rps: number
  readonly total: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
  /** CPU time the load generator spent per request (µs). */
  readonly loadCpuUs: number
}

const scripts = mkdtempSync(join(tmpdir(), "switchyard-bench-"))
const written = new Map<string, string>()
const wrkScript = (stream: boolean, model: string | undefined, extra: ExtraFields): string => {
  const body = requestBody(stream, model, extra)
  const known = written.get(body)
  if (known !== undefined) return known
  const file = join(scripts, `request-${written.size}.lua`)
  written.set(body, file)
  writeFileSync(
    file,
    [
      `wrk.method = "POST"`,
      `wrk.body = ${JSON.stringify(body)}`,
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
    ].join("\n") + "\n"
  )
  return file
}

/** CPU time (ms) of this process's waited-for children (wrk is one, exec'd in place by taskset). */
const childrenCpuMs = (): number => {
  const stat = readFileSync("/proc/self/stat", "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[13]) + Number(fields[14])) * 10
}

const wrkMs = (value: string): number => {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(value)
  if (match === null) return NaN
  const n = Number(match[1])
  return match[2] === "us" ? n / 1000 : match[2] === "ms" ? n : match[2] === "s" ? n * 1000 : n * 60_000
}

const runWrk = (
  url: string,
  stream: boolean,
  model: string | undefined,
  connections: number,
  seconds: number,
  extra: ExtraFields
) =>
  new Promise<Throughput>((resolve, reject) => {
    const before = childrenCpuMs()
    const [command, args] = onCore(CORE_LOAD, wrkPath!, [
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      "--timeout",
      "10s",
      "--latency",
      "-s",
      wrkScript(stream, model, extra),
      url
    ])
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.stderr.on("data", (d: Buffer) => (out += d.toString()))
    child.on("error", reject)
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}: ${out}`))
      const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
      const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
        (socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0))
      resolve({
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
        total,
        p50Ms: wrkMs(/50%\s+(\S+)/.exec(out)?.[1] ?? ""),
        p99Ms: wrkMs(/99%\s+(\S+)/.exec(out)?.[1] ?? ""),
        errors,
        loadCpuUs: ((childrenCpuMs() - before) * 1000) / total
      })
    })
  })

const runAutocannon = async (
  url: string,
  stream: boolean,
  model: string | undefined,
  connections: number,
  seconds: number,
  extra: ExtraFields
): Promise<Throughput> => {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const result = await autocannon({
    url,
    method: "POST",
    headers,
    body: requestBody(stream, model, extra),
    connections,
    duration: seconds
  })
  const elapsed = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return {
    rps: result.requests.total / Math.max(elapsed, result.duration),
    total: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    loadCpuUs: (used.user + used.system) / Math.max(1, result.requests.total)
  }
}

/** Closed-loop load: `connections` connections sending requests back to back for `seconds`. */
export const throughput = (
  base: string,
  options: {
    readonly stream: boolean
    readonly seconds: number
    readonly connections?: number
    readonly model?: string | undefined
    readonly body?: ExtraFields
    readonly generator?: "wrk" | "autocannon"
  }
): Promise<Throughput> => {
  const url = `${base}/chat/completions`
  const connections = options.connections ?? 64
  return (options.generator ?? loadGenerator) === "wrk"
    ? runWrk(url, options.stream, options.model, connections, options.seconds, options.body)
    : runAutocannon(url, options.stream, options.model, connections, options.seconds, options.body)
}

/** The value at a quantile (0..1) of some samples. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!
}

/** The median of some samples. */
export const median = (values: ReadonlyArray<number>): number => percentile(values, 0.5)

/** Latency samples of an open-loop run. */
export interface Timings {
  readonly total: { readonly p50: number; readonly p99: number }
  readonly firstChunk: { readonly p50: number; readonly p99: number }
  readonly errors: number
}

/**
 * Open-loop load on one target: `rate` requests per second on keep-alive
 * connections, run in slices (so that several targets can take turns and a
 * noisy neighbour hurts them alike). Times the whole exchange and the first
 * piece of the body; the first slice is warm-up and is not counted.
 */
export class OpenLoop {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  private readonly total: Array<number> = []
  private readonly first: Array<number> = []
  private readonly body: string
  private errors = 0
  private slices = 0

  constructor(
    private readonly base: string,
    private readonly options: {
      readonly rate: number
      readonly stream: boolean
      readonly model?: string | undefined
      readonly body?: ExtraFields
    }
  ) {
    this.body = requestBody(options.stream, options.model, options.body)
  }

  /** Sends requests at the rate for `seconds` and waits for their answers. */
  async run(seconds: number): Promise<void> {
    const counted = this.slices++ > 0
    const pending: Array<Promise<void>> = []
    const interval = 1000 / this.options.rate
    const begin = performance.now()
    for (let i = 0; i < this.options.rate * seconds; i++) {
      const wait = begin + i * interval - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      pending.push(this.one(counted))
    }
    await Promise.all(pending)
  }

  /** The timings so far; closes the connections. */
  finish(): Timings {
    this.agent.destroy()
    return {
      total: { p50: percentile(this.total, 0.5), p99: percentile(this.total, 0.99) },
      firstChunk: { p50: percentile(this.first, 0.5), p99: percentile(this.first, 0.99) },
      errors: this.errors
    }
  }

  private one(counted: boolean) {
    return new Promise<void>((resolve) => {
      const started = performance.now()
      const req = http.request(`${this.base}/chat/completions`, { method: "POST", agent: this.agent, headers }, (res) => {
        let firstAt = 0
        res.on("data", () => {
          if (firstAt === 0) firstAt = performance.now()
        })
        res.on("end", () => {
          if (res.statusCode !== 200) this.errors++
          else if (counted) {
            this.total.push(performance.now() - started)
            this.first.push(firstAt - started)
          }
          resolve()
        })
        res.on("error", () => {
          this.errors++
          resolve()
        })
      })
      req.on("error", () => {
        this.errors++
        resolve()
      })
      req.end(this.body)
    })
  }
}

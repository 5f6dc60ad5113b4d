/**
 * The store's benchmark: what `store: true` costs, on SQLite and PostgreSQL.
 * A fake upstream and the built gateway run in their own processes (each
 * pinned to a core where `taskset` exists); autocannon drives non-streaming
 * completions with and without `store: true`, and reports req/s and the
 * gateway's CPU per request. Then the cost of authenticating with a
 * database key against an environment key, measured in-process.
 *
 *   npm run build && tsx apps/gateway/bench/store.bench.ts
 *   (PostgreSQL: SWITCHYARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)
 *
 * List latency at a million stored rows: packages/store/bench/list.bench.ts.
 */
import { ApiKeyCache, ApiKeys, Authenticator, layerMemoryStore, PriceCatalogue } from "@switchyard/service"
import autocannon from "autocannon"
import { Context, Effect, Layer, Redacted } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { startFlags } from "./lib/targets.js"

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
const DURATION = Number(process.env.BENCH_DURATION ?? 8)
const taskset = existsSync("/usr/bin/taskset") ? "/usr/bin/taskset" : undefined
const pinned = taskset !== undefined && os.availableParallelism() >= 2
const pgBase = process.env.SWITCHYARD_TEST_DATABASE_URL

const start = (core: number, args: Array<string>, env: Record<string, string>, pattern: RegExp) =>
  new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    const command = pinned ? taskset! : process.execPath
    const argv = pinned ? ["-c", String(core), process.execPath, ...args] : args
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = pattern.exec(output)
      if (match) {
        child.stdout!.resume()
        child.stderr!.resume()
        resolve({ child, url: match[1]!.startsWith("http") ? match[1]! : `http://127.0.0.1:${match[1]}` })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)))
  })

const cpuMs = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(stat[11]) + Number(stat[12])) * 10
}

const body = (store: boolean) =>
  JSON.stringify({
    model: "openai/bench",
    messages: [{ role: "system", content: "You are a helpful assistant." }, { role: "user", content: "Say hello, please." }],
    ...(store ? { store: true, metadata: { bench: "store", user: "u1" } } : {})
  })

const run = async (url: string, pid: number, store: boolean) => {
  const before = cpuMs(pid)
  const result = await autocannon({
    url: `${url}/v5/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer bench-key" },
    body: body(store),
    connections: 64,
    duration: DURATION
  })
  const cpu = cpuMs(pid) - before
  return { rps: result.requests.average, cpuUsPerRequest: (cpu * 1000) / result.requests.total, errors: result.errors + result.non2xx }
}

const createDatabase = (name: string) => {
  const url = new URL(pgBase!)
  execFileSync("psql", ["-h", url.hostname, "-p", url.port || "5432", "-U", url.username || "postgres", "-d", url.pathname.slice(1), "-c", `CREATE DATABASE ${name}`])
  url.pathname = `/${name}`
  return url.toString()
}
const dropDatabase = (name: string) => {
  const url = new URL(pgBase!)
  execFileSync("psql", ["-h", url.hostname, "-p", url.port || "5432", "-U", url.username || "postgres", "-d", url.pathname.slice(1), "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`])
}

const throughput = async () => {
  const upstream = await start(1, [here("./upstream.mjs"), "0"], {}, /^(\d+)$/m)
  const backends: Array<{ name: string; env: Record<string, string>; cleanup: () => void }> = []
  const dir = mkdtempSync(path.join(os.tmpdir(), "sy-store-bench-"))
  backends.push({ name: "SQLite", env: { SWITCHYARD_DATA_DIR: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) })
  if (pgBase !== undefined) {
    const name = `sy_store_bench_${Date.now().toString(36)}`
    backends.push({ name: "PostgreSQL", env: { SWITCHYARD_DATABASE_URL: createDatabase(name) }, cleanup: () => dropDatabase(name) })
  } else {
    console.log("(SWITCHYARD_TEST_DATABASE_URL unset: PostgreSQL skipped)")
  }
  for (const backend of backends) {
    const gateway = await start(0, [...startFlags, here("../bin/switchyard.js"), "serve", "--port", "0"], {
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      OPENAI_API_KEY: "sk-bench",
      SWITCHYARD_API_KEYS: "bench-key",
      ...backend.env
    }, /listening on (http:\/\/\S+)/)
    await run(gateway.url, gateway.child.pid!, false) // warm-up
    const plain = await run(gateway.url, gateway.child.pid!, false)
    const stored = await run(gateway.url, gateway.child.pid!, true)
    const again = await run(gateway.url, gateway.child.pid!, false)
    const base = (plain.rps + again.rps) / 2
    console.log(
      `${backend.name}: without store ${base.toFixed(0)} req/s (${((plain.cpuUsPerRequest + again.cpuUsPerRequest) / 2).toFixed(0)} µs CPU/req); ` +
        `store: true ${stored.rps.toFixed(0)} req/s (${stored.cpuUsPerRequest.toFixed(0)} µs CPU/req): ` +
        `${(100 * (1 - stored.rps / base)).toFixed(1)}% of throughput; errors ${plain.errors + stored.errors + again.errors}`
    )
    gateway.child.kill("SIGTERM")
    await new Promise((resolve) => gateway.child.once("exit", resolve))
    backend.cleanup()
  }
  upstream.child.kill()
}

/** µs per `authenticate` call: an environment key, then a database key through the cache (its use noted). */
const authentication = () =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const base = yield* Layer.build(layerMemoryStore.pipe(Layer.provide(PriceCatalogue.layerStatic({}))))
    const keys = Context.get(base, ApiKeys)
    const created = yield* keys.create({ accountIds: ["acct_bench"] })
    const cache = Context.get(yield* Layer.build(ApiKeyCache.layer().pipe(Layer.provide(Layer.succeedContext(base)))), ApiKeyCache)
    const both = Context.get(
      yield* Layer.build(Authenticator.layer({ apiKeys: [Redacted.make("sy-env-key:acct_bench")] }, [cache.source])),
      Authenticator
    )
    const secret = Redacted.value(created.secret)
    const time = (key: string) => {
      const n = 500_000
      for (let i = 0; i < 50_000; i++) both.authenticate(key)
      const started = performance.now()
      for (let i = 0; i < n; i++) both.authenticate(key)
      return ((performance.now() - started) * 1000) / n
    }
    const env = time("sy-env-key")
    const db = time(secret)
    console.log(`authentication: environment key ${env.toFixed(2)} µs, database key ${db.toFixed(2)} µs (+${(db - env).toFixed(2)} µs)`)
  })))

await authentication()
await throughput()

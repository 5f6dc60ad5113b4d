/**
 * What can be measured: the bare relay, and the gateway run with some
 * environment and flags. A scenario describes its targets with these and hands
 * them to `measure` (lib/measure.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CORE_UNDER_TEST, here, type Started, startNode } from "./processes.js"

/** A process under test. */
export interface TargetSpec {
  /** The row's label. */
  readonly name: string
  readonly kind: "relay" | "gateway"
  /** Environment of the gateway, over the defaults (upstream URL and key, the bench API key). */
  readonly env?: Record<string, string>
  /** Extra flags of `switchyard serve`, e.g. `["--config", path]`. */
  readonly args?: ReadonlyArray<string>
  /** The model the requests name (default `openai/bench`, which reaches the fake upstream). */
  readonly model?: string
  /** Fields added to every request's body (`store: true`, `metadata`). */
  readonly body?: Readonly<Record<string, unknown>>
  /** Shown under the table: what this row runs with. */
  readonly note?: string
  /** Another build of the gateway to run (its `bin/switchyard.js` or `dist/bundle/bin.js`). */
  readonly entry?: string
}

/** The reference: node:http in, `undici.request` out, bytes piped. */
export const relay: TargetSpec = { name: "bare relay", kind: "relay" }

/** The gateway as `npm start` runs it, with one API key. */
export const gatewayDefault: TargetSpec = { name: "Switchyard default", kind: "gateway" }

/** A gateway target. */
export const gateway = (name: string, options: Omit<TargetSpec, "name" | "kind"> = {}): TargetSpec => ({
  name,
  kind: "gateway",
  ...options
})

/**
 * The V8 flags `npm start` runs the gateway with (read from this package's `start` script, so that
 * every benchmark runs the gateway as users start it): a 512 MB old-space cap keeps V8 collecting
 * before RSS balloons.
 */
export const startFlags: ReadonlyArray<string> = (() => {
  const start = (JSON.parse(readFileSync(here("../package.json"), "utf8")) as { scripts: { start: string } }).scripts.start
  return start.split(/\s+/).filter((word) => word.startsWith("--") && word.includes("-size="))
})()

/** A target that is running: where to send requests (the base ending in /v1 or /v5). */
export interface RunningTarget {
  readonly spec: TargetSpec
  readonly process: Started
  readonly base: string
  readonly pid: number
}

/** Where the gateway's entry point is: the bundled CLI, as users run it. `BENCH_GATEWAY_ENTRY` overrides it. */
export const gatewayEntry = (): string => process.env.BENCH_GATEWAY_ENTRY ?? here("../bin/switchyard.js")

const dataDirs: Array<string> = []
process.once("exit", () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
})

/** A new, empty data folder, removed when the benchmark exits. */
export const freshDataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-data-"))
  dataDirs.push(dir)
  return dir
}

/** Starts a target on the core under test, against the upstream at `upstreamV1`. */
export const startTarget = async (spec: TargetSpec, upstreamV1: string): Promise<RunningTarget> => {
  if (spec.kind === "relay") {
    const started = await startNode({
      name: spec.name,
      core: CORE_UNDER_TEST,
      args: [here("bare-relay.mjs"), "0", upstreamV1],
      ready: /^(\d+)$/m
    })
    return { spec, process: started, base: `${started.url}/v1`, pid: started.child.pid! }
  }
  const started = await startNode({
    name: spec.name,
    core: CORE_UNDER_TEST,
    nodeOptions: [...startFlags],
    args: [spec.entry ?? gatewayEntry(), "serve", "--host", "127.0.0.1", "--port", "0", ...(spec.args ?? [])],
    env: {
      OPENAI_BASE_URL: upstreamV1,
      OPENAI_API_KEY: "sk-bench",
      SWITCHYARD_API_KEYS: "bench-key",
      // A database of its own, new for the run (as on a fresh install): not one file shared by every
      // gateway of the run (lock waits) that grows from run to run.
      SWITCHYARD_DATA_DIR: freshDataDir(),
      ...spec.env
    },
    ready: /listening on (http:\/\/[\d.:]+)/,
    quietStdout: true
  })
  return { spec, process: started, base: `${started.url}/v5`, pid: started.child.pid! }
}

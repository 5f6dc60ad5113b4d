/**
 * The row "Switchyard, all features on": the gateway with every feature of the
 * wave switched on together. Each issue that adds a feature switches it on
 * here (database keys, `store: true` on SQLite, metrics, in-memory limits, a
 * route with two targets).
 *
 * Today it runs with what exists: 100 API keys in `SWITCHYARD_API_KEYS` (every
 * request is checked against all of them, then the database keys' cache), the
 * JSON access log, `store: true` on SQLite (a fresh data directory; every
 * request stored, with two metadata pairs, and its usage-ledger row written),
 * requests to a route with two targets (`bench-two`, see lib/routes.ts; its
 * first target answers), metrics (on by default), and limits in memory (the
 * bench key's rpm, tpm and concurrency and its account's rpm, never refusing:
 * scenarios/limits.ts).
 *
 * Overrides, for trying a feature before it is wired in here:
 *   BENCH_FEATURES_ENV='SWITCHYARD_X=1 SWITCHYARD_Y=2'   (or a JSON object) adds environment variables
 *   BENCH_FEATURES_CONFIG=path/to/switchyard.yaml         passes `--config path`
 *   BENCH_FEATURES_MODEL=route-name                       the model the requests name
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { BENCH_KEY } from "./lib/load.js"
import { routesConfig } from "./lib/routes.js"
import { gateway, type TargetSpec } from "./lib/targets.js"
import { limitsConfig } from "./scenarios/limits.js"

const KEYS = 100

/** Parses `BENCH_FEATURES_ENV`: a JSON object, or `NAME=value` pairs separated by spaces or new lines. */
export const parseEnv = (text: string | undefined): Record<string, string> => {
  if (text === undefined || text.trim().length === 0) return {}
  const trimmed = text.trim()
  if (trimmed.startsWith("{")) return JSON.parse(trimmed) as Record<string, string>
  const env: Record<string, string> = {}
  for (const pair of trimmed.split(/\s+/)) {
    const at = pair.indexOf("=")
    if (at <= 0) throw new Error(`BENCH_FEATURES_ENV: expected NAME=value, got ${JSON.stringify(pair)}`)
    env[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return env
}

/** The target of the row "Switchyard, all features on". */
export const allFeatures = (): TargetSpec => {
  const keys = Array.from({ length: KEYS - 1 }, (_, i) => `sk-bench-other-${i.toString().padStart(4, "0")}`)
  const config = process.env.BENCH_FEATURES_CONFIG
  const model = process.env.BENCH_FEATURES_MODEL ?? (config === undefined ? "bench-two" : undefined)
  const extra = parseEnv(process.env.BENCH_FEATURES_ENV)
  const dataDir = mkdtempSync(join(tmpdir(), "sy-bench-features-"))
  process.on("exit", () => rmSync(dataDir, { recursive: true, force: true }))
  const on = [`${KEYS} API keys`, "JSON access log", "store: true on SQLite", "metrics"]
  on.push(config !== undefined ? `--config ${config}` : "routes of lib/routes.ts, limits in memory")
  if (Object.keys(extra).length > 0) on.push(`env ${Object.keys(extra).join(", ")}`)
  if (model !== undefined) on.push(`model ${model}${model === "bench-two" ? " (a route with two targets)" : ""}`)
  return gateway("Switchyard, all features on", {
    env: { SWITCHYARD_API_KEYS: [...keys, BENCH_KEY].join(","), SWITCHYARD_LOG_FORMAT: "json", SWITCHYARD_DATA_DIR: dataDir, ...extra },
    body: { store: true, metadata: { bench: "features", user: "u1" } },
    args: ["--config", config !== undefined ? resolve(config) : limitsConfig(JSON.parse(readFileSync(routesConfig(), "utf8")))],
    ...(model !== undefined ? { model } : {}),
    note: on.join(", ")
  })
}

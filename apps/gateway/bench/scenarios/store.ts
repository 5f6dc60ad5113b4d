/**
 * Storage: what `store: true` costs. The gateway on SQLite (a fresh data
 * directory), without and with `store: true` (and two metadata pairs) on every
 * request; the same on PostgreSQL when `BENCH_DATABASE_URL` (or
 * `SWITCHYARD_TEST_DATABASE_URL`) names a server (a fresh database is created
 * and dropped there). Every row writes a usage-ledger row per request; the
 * `store: true` rows also store the completion. Read the CPU per request: the
 * database shares the machine's cores with the gateway under load.
 * Authentication with database keys and list latency at a million rows are
 * measured in-process: `npm run bench:store`, `npm run bench -w @switchyard/store`.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { measure, renderNotes, renderTable } from "../lib/measure.js"
import { recordRows } from "../lib/record.js"
import type { Scenario } from "../lib/scenario.js"
import { gateway, type TargetSpec } from "../lib/targets.js"

const STORED = { store: true, metadata: { bench: "store", user: "u1" } }

const psql = (url: URL, command: string) =>
  execFileSync("psql", ["-h", url.hostname, "-p", url.port || "5432", "-U", url.username || "postgres", "-d", url.pathname.slice(1) || "postgres", "-c", command], {
    stdio: "ignore"
  })

export const store: Scenario = {
  name: "store",
  title: "Storage: without and with `store: true`, on SQLite and PostgreSQL",
  byDefault: false,
  run: async (ctx) => {
    const dirs = [mkdtempSync(join(tmpdir(), "sy-bench-store-")), mkdtempSync(join(tmpdir(), "sy-bench-store-"))]
    const server = process.env.BENCH_DATABASE_URL ?? process.env.SWITCHYARD_TEST_DATABASE_URL
    const databases: Array<string> = []
    const database = () => {
      const base = new URL(server!)
      const name = `sy_bench_store_${Date.now().toString(36)}_${databases.length}`
      psql(base, `CREATE DATABASE ${name}`)
      databases.push(name)
      base.pathname = `/${name}`
      return base.toString()
    }
    try {
      const targets: Array<TargetSpec> = [
        gateway("Switchyard, SQLite, no store", { env: { SWITCHYARD_DATA_DIR: dirs[0]! }, note: "usage ledger only" }),
        gateway("Switchyard, SQLite, store: true", { env: { SWITCHYARD_DATA_DIR: dirs[1]! }, body: STORED, note: "store: true, 2 metadata pairs" })
      ]
      if (server !== undefined) {
        targets.push(
          gateway("Switchyard, PostgreSQL, no store", { env: { SWITCHYARD_DATABASE_URL: database() }, note: "usage ledger only" }),
          gateway("Switchyard, PostgreSQL, store: true", { env: { SWITCHYARD_DATABASE_URL: database() }, body: STORED })
        )
      } else {
        ctx.log("store: no BENCH_DATABASE_URL / SWITCHYARD_TEST_DATABASE_URL: PostgreSQL rows skipped")
      }
      const { relay, direct, rows } = await measure(ctx, targets)
      const ids = ["store.sqlite.off", "store.sqlite.on", "store.pg.off", "store.pg.on"]
      recordRows(ctx, relay, direct, rows.map((row, i) => [ids[i]!, row] as const))
      return `${renderTable(relay, direct, rows)}\n\n${renderNotes(relay, direct, rows)}`
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
      for (const name of databases) {
        try {
          psql(new URL(server!), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        } catch {
          // left for the operator
        }
      }
    }
  }
}

/**
 * The cost of rate limits (issue 12; `BENCH_ONLY=limits`), two ways:
 * - direct: what a limited request adds, in this process (lib/limitsCost.ts):
 *   the in-memory store, Redis (one round trip: its p50), and for comparison
 *   `@effect/experimental`'s RateLimiter on its memory store;
 * - whole gateway: CPU per request and added p50 of gateways with limits off,
 *   on in memory, and on in Redis (`BENCH_REDIS_URL` or
 *   `SWITCHYARD_TEST_REDIS_URL`), every request limited by a key's rpm, tpm
 *   and concurrency and its account's rpm (limits high enough never to refuse).
 * Targets: memory < 15 µs of CPU per request; Redis one round trip, < 150 µs more at p50.
 */
import { rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { limitsCost } from "../lib/limitsCost.js"
import { measure, renderNotes, renderTable } from "../lib/measure.js"
import { recordRows } from "../lib/record.js"
import type { Scenario } from "../lib/scenario.js"
import { gateway, type TargetSpec } from "../lib/targets.js"

/** Limits on the bench key and its account, high enough never to refuse: every request is checked and settled. */
export const BENCH_LIMITS = {
  default: { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000, concurrent_requests: 100_000 },
  accounts: { default: { requests_per_minute: 1_000_000_000 } }
}

/** A configuration file with `BENCH_LIMITS` (and `extra` sections). */
export const limitsConfig = (extra: Record<string, unknown> = {}): string => {
  const file = join(tmpdir(), `sy-bench-limits-${process.pid}-${Object.keys(extra).join("-")}.json`)
  writeFileSync(file, JSON.stringify({ ...extra, limits: BENCH_LIMITS }))
  process.on("exit", () => rmSync(file, { force: true }))
  return file
}

const us = (value: number, digits = 1) => `${value >= 0 ? "+" : ""}${value.toFixed(digits)} µs`

export const limits: Scenario = {
  name: "limits",
  title: "Limits: CPU per request with limits off, in memory and in Redis",
  byDefault: false,
  run: async (ctx) => {
    const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL
    ctx.log("limits' direct cost per request…")
    const direct = await limitsCost(redisUrl)
    ctx.results.set("limits.direct.memory", direct.memory - direct.off)
    if (direct.redis !== undefined) ctx.results.set("limits.direct.redisP50Us", direct.redis.p50Ms * 1000)
    const directTable = [
      "| direct cost per request (in-process, least of 5 runs of 20,000) | CPU µs | |",
      "|---|---|---|",
      `| a caller without limits (\`Limits.applies\`: what every request pays) | ${direct.off.toFixed(2)} | — |`,
      `| limited, memory store (key rpm + tpm + concurrency, account rpm; headers; settle) | ${direct.memory.toFixed(1)} | ${us(direct.memory - direct.off)} |`,
      `| for comparison: @effect/experimental RateLimiter, memory store, 3 \`consume\` (no concurrency, no settle) | ${direct.experimental.toFixed(1)} | |`,
      direct.redis === undefined
        ? "| Redis | not measured (set BENCH_REDIS_URL or SWITCHYARD_TEST_REDIS_URL) | |"
        : `| limited, Redis (one EVALSHA per request; settle in the background) | ${direct.redis.cpuUs.toFixed(1)} | round trip p50 ${
          (direct.redis.p50Ms * 1000).toFixed(0)
        } µs, p99 ${(direct.redis.p99Ms * 1000).toFixed(0)} µs |`
    ].join("\n")

    const config = limitsConfig()
    const specs: Array<TargetSpec> = [
      gateway("Switchyard, limits off"),
      gateway("Switchyard, limits in memory", { args: ["--config", config] }),
      ...(redisUrl === undefined ? [] : [gateway("Switchyard, limits in Redis", { args: ["--config", config], env: { SWITCHYARD_REDIS_URL: redisUrl } })])
    ]
    const { direct: baseline, relay, rows } = await measure(ctx, specs)
    const ids = ["limits.off", "limits.memory", "limits.redis"]
    recordRows(ctx, relay, baseline, rows.map((row, i) => [ids[i]!, row] as const))
    const off = rows[0]!
    const lines = [
      "| row | CPU µs per request (plain) | added | CPU µs per 20-chunk stream | added | added p50 @100/s over limits off |",
      "|---|---|---|---|---|---|",
      ...rows.map((row, i) =>
        `| ${row.spec.name} | ${row.plain.cpuUs.toFixed(0)} | ${i === 0 ? "—" : us(row.plain.cpuUs - off.plain.cpuUs, 0)} | ${
          row.stream.cpuUs.toFixed(0)
        } | ${i === 0 ? "—" : us(row.stream.cpuUs - off.stream.cpuUs, 0)} | ${
          i === 0 ? "—" : `${((row.fixed.total.p50 - off.fixed.total.p50) * 1000).toFixed(0)} µs`
        } |`
      )
    ]
    for (const [i, row] of rows.entries()) {
      if (i === 0) continue
      ctx.results.set(`${ids[i]}.addedPlainCpuUs`, row.plain.cpuUs - off.plain.cpuUs)
      ctx.results.set(`${ids[i]}.addedStreamCpuUs`, row.stream.cpuUs - off.stream.cpuUs)
    }
    return `${directTable}\n\nWhole gateway:\n\n${renderTable(relay, baseline, rows)}\n\n${lines.join("\n")}\n\n${renderNotes(relay, baseline, rows)}`
  }
}

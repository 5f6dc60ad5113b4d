/**
 * This build against another one, side by side (not in the default run):
 *
 *   git worktree add --detach /tmp/switchyard-before <commit> && (cd /tmp/switchyard-before && npm ci)
 *   BENCH_ONLY=baseline BENCH_BASELINE_ENTRY=/tmp/switchyard-before/apps/gateway/bin/switchyard.js npm run bench
 *
 * For "the hot path must not get slower" after a change lands.
 */
import { measure, renderNotes, renderTable } from "../lib/measure.js"
import { recordRows } from "../lib/record.js"
import type { Scenario } from "../lib/scenario.js"
import { gateway, gatewayDefault } from "../lib/targets.js"

export const baseline: Scenario = {
  name: "baseline",
  title: "This build against a baseline build",
  byDefault: false,
  run: async (ctx) => {
    const entry = process.env.BENCH_BASELINE_ENTRY
    if (entry === undefined) throw new Error("set BENCH_BASELINE_ENTRY to the other build's bin/switchyard.js")
    const { relay, direct, rows } = await measure(ctx, [
      gateway("Switchyard, baseline build", { entry, note: entry }),
      { ...gatewayDefault, name: "Switchyard, this build" }
    ])
    recordRows(ctx, relay, direct, [["baseline", rows[0]!], ["default", rows[1]!]])
    return `${renderTable(relay, direct, rows)}\n\n${renderNotes(relay, direct, rows)}`
  }
}

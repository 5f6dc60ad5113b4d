/**
 * An example of a feature scenario (not in the default run: `BENCH_ONLY=api-keys`):
 * the cost of the API-key check as the number of configured keys grows. Later
 * issues add theirs the same way (storage on/off, routing, metrics and
 * tracing, limits): describe the targets, `measure` them beside the relay,
 * record the figures, return the table.
 */
import { BENCH_KEY } from "../lib/load.js"
import { measure, renderNotes, renderTable } from "../lib/measure.js"
import { recordRows } from "../lib/record.js"
import type { Scenario } from "../lib/scenario.js"
import { gateway } from "../lib/targets.js"

const keys = (n: number) =>
  [...Array.from({ length: n - 1 }, (_, i) => `sk-bench-other-${i}`), BENCH_KEY].join(",")

export const apiKeys: Scenario = {
  name: "api-keys",
  title: "API keys: 1, 100 and 1,000 configured keys",
  byDefault: false,
  run: async (ctx) => {
    const counts = [1, 100, 1_000]
    const { relay, direct, rows } = await measure(
      ctx,
      counts.map((n) => gateway(`Switchyard, ${n} ${n === 1 ? "key" : "keys"}`, { env: { SWITCHYARD_API_KEYS: keys(n) } }))
    )
    recordRows(ctx, relay, direct, rows.map((row, i) => [`keys${counts[i]}`, row] as const))
    return `${renderTable(relay, direct, rows)}\n\n${renderNotes(relay, direct, rows)}`
  }
}

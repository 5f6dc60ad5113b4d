/**
 * The headline table: the bare relay, Switchyard as `npm start` runs it, and
 * Switchyard with all features on (see bench/features.ts), side by side.
 */
import { allFeatures } from "../features.js"
import { measure, renderNotes, renderTable } from "../lib/measure.js"
import { recordRows } from "../lib/record.js"
import type { Scenario } from "../lib/scenario.js"
import { gatewayDefault } from "../lib/targets.js"

export const headline: Scenario = {
  name: "headline",
  title: "Bare relay, Switchyard default, Switchyard with all features on",
  byDefault: true,
  run: async (ctx) => {
    const { relay, direct, rows } = await measure(ctx, [gatewayDefault, allFeatures()])
    recordRows(ctx, relay, direct, [["default", rows[0]!], ["features", rows[1]!]])
    return `${renderTable(relay, direct, rows)}\n\n${renderNotes(relay, direct, rows)}`
  }
}

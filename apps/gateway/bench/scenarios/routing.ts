/**
 * Routing: a model called directly, the same model through a route with one
 * target, and through a fallback route with two targets whose first answers,
 * side by side. A route with one target should cost what the direct call does
 * (within noise); the routing decision itself is measured in-process by
 * `npm run bench:routing -w @switchyard/service`.
 */
import { measure, renderNotes, renderTable } from "../lib/measure.js"
import { recordRows } from "../lib/record.js"
import { routesConfig } from "../lib/routes.js"
import type { Scenario } from "../lib/scenario.js"
import { gateway } from "../lib/targets.js"

export const routing: Scenario = {
  name: "routing",
  title: "Routing: a model directly, a route with one target, a fallback route with two",
  byDefault: true,
  run: async (ctx) => {
    const args = ["--config", routesConfig()]
    const { relay, direct, rows } = await measure(ctx, [
      gateway("Switchyard, openai/bench directly", { args }),
      gateway("Switchyard, route with 1 target", { args, model: "bench-one", note: "route `bench-one`: openai/bench" }),
      gateway("Switchyard, fallback route, 2 targets", {
        args,
        model: "bench-two",
        note: "route `bench-two`: openai/bench (answers), then echo/bench"
      })
    ])
    recordRows(ctx, relay, direct, [["routing.direct", rows[0]!], ["routing.one", rows[1]!], ["routing.two", rows[2]!]])
    return `${renderTable(relay, direct, rows)}\n\n${renderNotes(relay, direct, rows)}`
  }
}

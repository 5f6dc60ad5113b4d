/**
 * Every scenario, in the order a run prints them. A new scenario is a module
 * in this folder exporting a `Scenario`, added to this list.
 */
import type { Scenario } from "../lib/scenario.js"
import { apiKeys } from "./api-keys.js"
import { baseline } from "./baseline.js"
import { cli } from "./cli.js"
import { headline } from "./headline.js"
import { limits } from "./limits.js"
import { observability } from "./observability.js"
import { routing } from "./routing.js"
import { slowStreams } from "./slow-streams.js"
import { store } from "./store.js"

export const scenarios: ReadonlyArray<Scenario> = [headline, slowStreams, routing, cli, store, apiKeys, observability, limits, baseline]

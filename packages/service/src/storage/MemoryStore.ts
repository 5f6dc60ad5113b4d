import { Layer } from "effect"
import { ResponsesStore } from "../responses/ResponsesStore.js"
import { ApiKeys } from "./ApiKeys.js"
import { StoredCompletions } from "./StoredCompletions.js"
import { StoreHealth } from "./StoreHealth.js"
import { UsageLedger } from "./UsageLedger.js"

/**
 * Every storage port in memory (keys, stored completions, usage ledger,
 * responses, health): the store of library users and tests that need no database.
 * Needs a `PriceCatalogue` for the ledger's costs.
 */
export const layerMemoryStore = Layer.mergeAll(
  ApiKeys.layerMemory,
  StoredCompletions.layerMemory,
  UsageLedger.layerMemory,
  ResponsesStore.layerMemory(),
  StoreHealth.layerMemory
)

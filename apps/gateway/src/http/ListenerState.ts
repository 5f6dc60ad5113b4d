import { Context } from "effect"
import type { Exchange } from "./Respond.js"

/** The access log record of a node request, for the HttpApi side to annotate (an error, the caller). */
export class Exchanges extends Context.Tag("@switchyard/gateway/Exchanges")<Exchanges, {
  readonly of: (source: unknown) => Exchange | undefined
}>() {}

/** Whether the listener is draining (shutting down): `/ready` answers 503 then. */
export class Draining extends Context.Tag("@switchyard/gateway/Draining")<Draining, () => boolean>() {}

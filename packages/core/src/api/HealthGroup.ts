import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"

/** The store behind stored completions, keys and usage, as `/ready` reports it. */
export const StoreHealthStatus = Schema.Struct({
  backend: Schema.String,
  healthy: Schema.Boolean,
  /** Rows waiting to be written. */
  queue_depth: Schema.Int,
  /** Rows not stored because the queue was full, since start. */
  dropped: Schema.Int,
  last_error: Schema.NullOr(Schema.String)
}).annotations({ identifier: "StoreHealthStatus" })

/** `GET /health` and `GET /ready`. */
export const HealthStatus = Schema.Struct({
  status: Schema.Literal("ok", "ready", "starting", "draining", "degraded"),
  vendors: Schema.optional(Schema.Array(Schema.String)),
  store: Schema.optional(StoreHealthStatus)
}).annotations({ identifier: "HealthStatus" })
export interface HealthStatus extends Schema.Schema.Type<typeof HealthStatus> {}

/** Liveness and readiness (open: no key needed). */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(HealthStatus))
  .add(HttpApiEndpoint.get("ready", "/ready").addSuccess(HealthStatus).addError(HealthStatus, { status: 503 }))
  .annotate(OpenApi.Title, "Health")
{}

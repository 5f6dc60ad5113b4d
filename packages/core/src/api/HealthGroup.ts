import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"

/** `GET /health` and `GET /ready`. */
export const HealthStatus = Schema.Struct({
  status: Schema.Literal("ok", "ready", "starting", "draining"),
  vendors: Schema.optional(Schema.Array(Schema.String))
}).annotations({ identifier: "HealthStatus" })
export interface HealthStatus extends Schema.Schema.Type<typeof HealthStatus> {}

/** Liveness and readiness (open: no key needed). */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(HealthStatus))
  .add(HttpApiEndpoint.get("ready", "/ready").addSuccess(HealthStatus).addError(HealthStatus, { status: 503 }))
  .annotate(OpenApi.Title, "Health")
{}

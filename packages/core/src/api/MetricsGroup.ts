import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Forbidden, RouteNotFound, Unauthenticated } from "../GatewayError.js"
import { errorEnvelopeAt } from "./Errors.js"

/** The Prometheus text exposition format's content type. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/**
 * `GET /metrics`: the gateway's metrics in Prometheus' text format. Open by
 * default; with `metrics.require_key: true` it needs an admin key (401
 * without a key, 403 with a key that is not an admin's); 404 when metrics are
 * disabled.
 */
export class MetricsGroup extends HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(HttpApiSchema.Text({ contentType: PROMETHEUS_CONTENT_TYPE }).annotations({
        description: "Prometheus text exposition format 0.0.4: every metric with its labels"
      }))
      .addError(errorEnvelopeAt(Unauthenticated, 401))
      .addError(errorEnvelopeAt(Forbidden, 403))
      .addError(errorEnvelopeAt(RouteNotFound, 404))
      .annotate(OpenApi.Summary, "Prometheus metrics")
  )
  .annotate(OpenApi.Title, "Metrics")
{}

import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Forbidden, PROMETHEUS_CONTENT_TYPE, RouteNotFound, SwitchyardApi } from "@switchyard/core"
import { Effect } from "effect"
import { Gateway } from "../config/GatewayConfig.js"
import { MetricsExposition } from "../telemetry/MetricsExposition.js"
import { Exchanges } from "./ListenerState.js"

export const MetricsHttpLive = HttpApiBuilder.group(SwitchyardApi, "metrics", (handlers) =>
  Effect.gen(function*() {
    const exposition = yield* MetricsExposition
    const { metrics } = yield* Gateway
    const exchanges = yield* Exchanges
    const forbidden = new Forbidden({ message: "An admin key is required to read the metrics." })
    return handlers.handle("metrics", ({ request }) => {
      if (!exposition.enabled) return Effect.fail(new RouteNotFound({ method: request.method, path: "/metrics" }))
      if (metrics.requireKey && exchanges.of(request.source)?.admin !== true) return Effect.fail(forbidden)
      return Effect.map(exposition.scrape, (text) => HttpServerResponse.text(text, { contentType: PROMETHEUS_CONTENT_TYPE }))
    })
  }))

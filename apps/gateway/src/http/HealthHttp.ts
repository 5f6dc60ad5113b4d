import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { SwitchyardApi } from "@switchyard/core"
import { ChatCompletions } from "@switchyard/service"
import { Effect } from "effect"
import { Draining } from "./ListenerState.js"

export const HealthHttpLive = HttpApiBuilder.group(SwitchyardApi, "health", (handlers) =>
  Effect.gen(function*() {
    const completions = yield* ChatCompletions
    const draining = yield* Draining
    return handlers
      .handle("health", () => Effect.succeed({ status: "ok" as const }))
      .handle("ready", () =>
        draining()
          ? Effect.succeed(HttpServerResponse.unsafeJson({ status: "draining" }, { status: 503 }))
          : Effect.succeed({ status: "ready" as const, vendors: completions.vendors }))
  }))

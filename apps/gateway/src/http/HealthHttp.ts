import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { type HealthStatus, SwitchyardApi } from "@switchyard/core"
import { ChatCompletions, StoreHealth } from "@switchyard/service"
import { Effect } from "effect"
import { Draining } from "./ListenerState.js"

export const HealthHttpLive = HttpApiBuilder.group(SwitchyardApi, "health", (handlers) =>
  Effect.gen(function*() {
    const completions = yield* ChatCompletions
    const storeHealth = yield* StoreHealth
    const draining = yield* Draining
    return handlers
      .handle("health", () => Effect.succeed({ status: "ok" as const }))
      .handle("ready", () =>
        draining()
          ? Effect.succeed(HttpServerResponse.unsafeJson({ status: "draining" }, { status: 503 }))
          : Effect.map(storeHealth.status, (store) => {
            const body: HealthStatus = {
              status: "ready",
              vendors: completions.vendors,
              store: {
                backend: store.backend,
                healthy: store.healthy,
                queue_depth: store.queue.depth,
                dropped: store.queue.dropped,
                last_error: store.lastError
              }
            }
            // Answers are still served while the database is away (writes wait in the queue); once the
            // queue is full, stored completions and usage are being lost: not ready.
            const full = store.queue.capacity > 0 && store.queue.depth >= store.queue.capacity
            return full ? HttpServerResponse.unsafeJson({ ...body, status: "degraded" }, { status: 503 }) : body
          }))
  }))

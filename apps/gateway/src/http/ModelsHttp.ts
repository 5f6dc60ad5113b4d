import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { type ModelList, SwitchyardApi } from "@switchyard/core"
import { ChatCompletions } from "@switchyard/service"
import { Effect } from "effect"

export const ModelsHttpLive = HttpApiBuilder.group(SwitchyardApi, "models", (handlers) =>
  Effect.gen(function*() {
    const completions = yield* ChatCompletions
    const list = completions.models.pipe(
      Effect.map((models): ModelList => ({
        object: "list",
        data: models.map((model) => ({ id: model.id, object: "model", created: 0, owned_by: model.ownedBy ?? model.vendor }))
      })),
      Effect.orElseSucceed((): ModelList => ({ object: "list", data: [] }))
    )
    return handlers.handle("listV5", () => list).handle("listV1", () => list)
  }))

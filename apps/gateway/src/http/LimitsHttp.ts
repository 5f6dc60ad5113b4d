import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { CurrentCaller, Forbidden, SwitchyardApi } from "@switchyard/core"
import { Limits } from "@switchyard/service"
import { Effect } from "effect"

export const LimitsHttpLive = HttpApiBuilder.group(SwitchyardApi, "limits", (handlers) =>
  Effect.gen(function*() {
    const limits = yield* Limits
    return handlers
      .handle("own", () => Effect.flatMap(CurrentCaller, (caller) => limits.status(caller, true)))
      .handle("account", ({ urlParams }) =>
        Effect.gen(function*() {
          const { principal } = yield* CurrentCaller
          if (!principal.admin) return yield* new Forbidden({ message: "Another account's limits need an admin key (SWITCHYARD_ADMIN_KEYS)." })
          const key = urlParams.key
          return yield* limits.status({
            principal: {
              keyId: key ?? "-",
              ...(key !== undefined ? { name: key } : {}),
              accountIds: [urlParams.account],
              defaultAccountId: urlParams.account,
              admin: false
            },
            accountId: urlParams.account
          }, key !== undefined)
        }))
  }))

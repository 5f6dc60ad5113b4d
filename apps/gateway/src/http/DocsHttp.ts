import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { InternalError, openApiDocument, SwitchyardApi } from "@switchyard/core"
import { Effect } from "effect"

export const DocsHttpLive = HttpApiBuilder.group(SwitchyardApi, "docs", (handlers) =>
  Effect.gen(function*() {
    const document = HttpServerResponse.text(JSON.stringify(openApiDocument()), { contentType: "application/json" })
    // The docs page (Scalar's inlined assets, ~100 MB of heap once loaded) is loaded on first use.
    const page = yield* Effect.cached(
      Effect.tryPromise(() => import("./DocsPage.js")).pipe(Effect.flatMap((module) => module.makeDocsApp))
    )
    return handlers
      .handle("openapi", () => Effect.succeed(document))
      .handle("docs", () =>
        Effect.flatMap(page, (app) => app).pipe(
          Effect.catchAllCause((cause) =>
            Effect.zipRight(
              Effect.logError("The docs page failed to load", cause),
              Effect.fail(new InternalError({ message: "The docs page is unavailable." }))
            )
          )
        ))
  }))

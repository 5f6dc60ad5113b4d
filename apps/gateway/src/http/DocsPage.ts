import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiScalar from "@effect/platform/HttpApiScalar"
import * as HttpRouter from "@effect/platform/HttpRouter"
import { openApiDocument, SwitchyardApi } from "@switchyard/core"
import { Context, Effect, Layer } from "effect"

const DocsRoutes = Layer.suspend(() => {
  // Shapes the cached document first: the docs page then shows exactly /openapi.json.
  openApiDocument()
  return HttpApiScalar.layer({ path: "/docs" }).pipe(
    Layer.provide(Layer.succeed(HttpApi.Api, {
      api: SwitchyardApi as unknown as Context.Tag.Service<typeof HttpApi.Api>["api"],
      context: Context.empty()
    })),
    Layer.provideMerge(HttpApiBuilder.Router.Live)
  )
})

/** The `/docs` page: the Scalar API reference of the contract, its assets inlined (works offline). */
export const makeDocsApp = Effect.gen(function*() {
  const router = yield* HttpApiBuilder.Router.router
  return yield* HttpRouter.toHttpApp(router)
}).pipe(Effect.provide(DocsRoutes))

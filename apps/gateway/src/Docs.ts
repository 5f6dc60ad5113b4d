import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiScalar from "@effect/platform/HttpApiScalar"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { DocumentedApi, openApiDocument } from "@switchyard/core"
import { Context, Effect, Layer } from "effect"

const DocsRoutes = Layer.suspend(() => {
  // Shapes the cached document first: the docs page then shows exactly /openapi.json.
  openApiDocument()
  return HttpApiScalar.layer({ path: "/docs" }).pipe(
    Layer.provide(Layer.succeed(HttpApi.Api, {
      api: DocumentedApi as unknown as Context.Tag.Service<typeof HttpApi.Api>["api"],
      context: Context.empty()
    })),
    Layer.provideMerge(HttpApiBuilder.Router.Live)
  )
})

/** A node request handler for `/docs`: the Scalar API reference of the contract, its assets inlined (works offline). */
export const makeDocsHandler = Effect.gen(function*() {
  const router = yield* HttpApiBuilder.Router.router
  return yield* NodeHttpServer.makeHandler(router)
}).pipe(Effect.provide(DocsRoutes), Effect.provide(NodeHttpServer.layerContext))

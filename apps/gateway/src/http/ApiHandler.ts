import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { SwitchyardApi } from "@switchyard/core"
import { Effect, Layer, Option } from "effect"
import { constTrue } from "effect/Function"
import { Gateway } from "../config/GatewayConfig.js"
import { AuthenticationLive } from "./Authentication.js"
import { ChatHttpLive } from "./ChatHttp.js"
import { DashboardHttpLive } from "./DashboardHttp.js"
import { DashboardPageHttpLive } from "./DashboardPageHttp.js"
import { DocsHttpLive } from "./DocsHttp.js"
import { ErrorMiddlewareLive } from "./ErrorMiddleware.js"
import { HealthHttpLive } from "./HealthHttp.js"
import { KeysHttpLive } from "./KeysHttp.js"
import { MetricsHttpLive } from "./MetricsHttp.js"
import { ModelsHttpLive } from "./ModelsHttp.js"
import { ResponsesHttpLive } from "./ResponsesHttp.js"
import { StoredCompletionsHttpLive } from "./StoredCompletionsHttp.js"
import { UsageHttpLive } from "./UsageHttp.js"

const Groups = Layer.mergeAll(
  ChatHttpLive,
  ResponsesHttpLive,
  ModelsHttpLive,
  StoredCompletionsHttpLive,
  UsageHttpLive,
  KeysHttpLive,
  DashboardHttpLive,
  DashboardPageHttpLive,
  HealthHttpLive,
  DocsHttpLive,
  MetricsHttpLive
).pipe(
  Layer.provide(AuthenticationLive)
)

const ApiLive = HttpApiBuilder.api(SwitchyardApi).pipe(Layer.provide(Groups), Layer.provide(AuthenticationLive))

/** Routes match exactly as written: no trailing-slash, duplicate-slash or case folding. */
const STRICT_ROUTES = { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, caseSensitive: true } as const

/**
 * A node request handler for every endpoint of the HttpApi but the completion
 * fast path: `HttpApiBuilder` behind the error middleware. `makeHandler` sets
 * no body limit: the listener enforces it before (413), and it is set here too.
 * The platform's own request span is off: the listener records the request's
 * span (when tracing). Lives as long as the scope.
 */
export const makeApiHandler = Effect.gen(function*() {
  const { bodyLimitBytes } = yield* Gateway
  const context = yield* Layer.build(
    Layer.mergeAll(ApiLive, ErrorMiddlewareLive, HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer, NodeHttpServer.layerContext)
  )
  const app = yield* HttpApiBuilder.httpApp.pipe(HttpRouter.withRouterConfig(STRICT_ROUTES), Effect.provide(context))
  return yield* NodeHttpServer.makeHandler(app).pipe(
    HttpMiddleware.withTracerDisabledWhenEffect(constTrue),
    Effect.provide(context),
    Effect.provideService(HttpServerRequest.MaxBodySize, Option.some(FileSystem.Size(bodyLimitBytes)))
  )
})

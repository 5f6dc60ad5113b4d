import { HttpApi, HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { ChatCompletion } from "./ChatCompletion.js"
import { ChatCompletionChunk } from "./ChatCompletionChunk.js"
import { ChatCompletionRequest } from "./ChatCompletionRequest.js"
import { ErrorEnvelope } from "./GatewayError.js"
import { HTTPValidationError } from "./ValidationError.js"

/** A model the gateway can route to, in OpenAI's list format. */
export const Model = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("model"),
  created: Schema.Int,
  owned_by: Schema.String
}).annotations({ identifier: "Model" })
export interface Model extends Schema.Schema.Type<typeof Model> {}

/** `GET /v1/models`. */
export const ModelList = Schema.Struct({
  object: Schema.Literal("list"),
  data: Schema.Array(Model)
}).annotations({ identifier: "ModelList" })
export interface ModelList extends Schema.Schema.Type<typeof ModelList> {}

/** `GET /health` and `GET /ready`. */
export const HealthStatus = Schema.Struct({
  status: Schema.Literal("ok", "ready", "starting", "draining"),
  vendors: Schema.optional(Schema.Array(Schema.String))
}).annotations({ identifier: "HealthStatus" })
export interface HealthStatus extends Schema.Schema.Type<typeof HealthStatus> {}

/** The headers of a chat completion call. */
export const ChatCompletionHeaders = Schema.Struct({
  "x-api-key": Schema.optional(Schema.String),
  "x-openai-api-key": Schema.optional(Schema.String),
  "x-selected-account-id": Schema.optional(Schema.String)
})

const completionEndpoint = <Name extends string, Path extends `/${string}`>(name: Name, path: Path) =>
  HttpApiEndpoint.post(name, path)
    .setPayload(ChatCompletionRequest)
    .setHeaders(ChatCompletionHeaders)
    .addSuccess(
      Schema.Union(ChatCompletion, ChatCompletionChunk).annotations({
        title: "Response Post-V5-/V5/Chat/Completions",
        description: "A `chat.completion`, or with `stream: true` a `text/event-stream` of `chat.completion.chunk` events"
      })
    )
    .addError(HTTPValidationError, { status: 422 })
    .addError(ErrorEnvelope.annotations({ identifier: "ErrorEnvelope" }), { status: 400 })
    .annotate(OpenApi.Summary, "Chat Completions")
    .annotate(
      OpenApi.Transform,
      (operation) => {
        const ok = (operation.responses as Record<string, { content?: Record<string, unknown> }>)["200"]
        const json = ok?.content?.["application/json"] as { schema?: { anyOf?: Array<unknown> } } | undefined
        const chunk = json?.schema?.anyOf?.[1]
        if (ok?.content !== undefined && chunk !== undefined) ok.content["text/event-stream"] = { schema: chunk }
        return operation
      }
    )

/** `POST /v5/chat/completions` and its `/v1` twin. */
export class ChatCompletionsGroup extends HttpApiGroup.make("chat")
  .add(completionEndpoint("createV5", "/v5/chat/completions"))
  .add(completionEndpoint("createV1", "/v1/chat/completions"))
  .annotate(OpenApi.Title, "Inference")
{}

/** `GET /v5/models` and `GET /v1/models`. */
export class ModelsGroup extends HttpApiGroup.make("models")
  .add(HttpApiEndpoint.get("listV5", "/v5/models").addSuccess(ModelList))
  .add(HttpApiEndpoint.get("listV1", "/v1/models").addSuccess(ModelList))
  .annotate(OpenApi.Title, "Models")
{}

/** Liveness and readiness. */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(HealthStatus))
  .add(HttpApiEndpoint.get("ready", "/ready").addSuccess(HealthStatus).addError(HealthStatus, { status: 503 }))
  .annotate(OpenApi.Title, "Health")
{}

/** Switchyard's HTTP contract: the source of `/openapi.json` and `/docs`. */
export class SwitchyardApi extends HttpApi.make("switchyard")
  .add(ChatCompletionsGroup)
  .add(ModelsGroup)
  .add(HealthGroup)
  .annotateContext(OpenApi.annotations({
    title: "Switchyard: EGP/SGP v5 Chat Completions",
    version: "0.1.0",
    description: "An OpenAI-compatible chat completions gateway. Authenticate with `x-api-key` or `Authorization: Bearer`."
  }))
{}

/** The OpenAPI document of the contract; objects allow additional properties, as in the spec. */
export const openApiDocument = (): OpenApi.OpenAPISpec =>
  OpenApi.fromApi(SwitchyardApi, { additionalPropertiesStrategy: "allow" })

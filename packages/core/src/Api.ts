import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { JSONSchema, Schema } from "effect"
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

type Json = Record<string, unknown>

const ERROR_STATUSES: ReadonlyArray<[string, string]> = [
  ["400", "Invalid request, unsupported parameter, or rejected by the vendor"],
  ["401", "Missing or invalid API key"],
  ["404", "Unknown model vendor"],
  ["413", "Request body too large"],
  ["415", "Body is not JSON"],
  ["429", "Rate limited upstream (retry-after passed on)"],
  ["502", "Upstream failed or answered badly"],
  ["503", "Upstream unavailable or overloaded"],
  ["504", "Upstream timed out"]
]

/** Effect writes `Schema.Unknown` as `{"$id": "/schemas/unknown"}`; plain JSON Schema says "anything" with `{}`. */
const dropEffectIds = (node: unknown): void => {
  if (typeof node !== "object" || node === null) return
  if (!Array.isArray(node) && (node as Json).$id === "/schemas/unknown") delete (node as Json).$id
  for (const value of Object.values(node)) dropEffectIds(value)
}

/**
 * Turns HttpApi's output into the spec's shape: the 422 body is the named
 * component `HTTPValidationError` (plus the OpenAI `error` envelope it also
 * carries), every error status answers `ErrorEnvelope`, the API key is the
 * `APIKeyHeader` scheme (`x-api-key`, or a bearer token).
 */
const toSpecShape = (generated: OpenApi.OpenAPISpec): OpenApi.OpenAPISpec => {
  dropEffectIds(generated)
  const doc = generated as unknown as Json & { components: Json & { schemas: Record<string, unknown> } }
  const schemas = doc.components.schemas
  const envelope = { $ref: "#/components/schemas/ErrorEnvelope" }
  for (const name of ["HttpApiDecodeError", "Issue", "PropertyKey"]) delete schemas[name]
  doc.components.securitySchemes = {
    APIKeyHeader: { type: "apiKey", in: "header", name: "x-api-key" },
    BearerAuth: { type: "http", scheme: "bearer" }
  }
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(item)) {
      const responses = operation.responses as Record<string, Json>
      const errors = responses["400"] ?? responses["422"]
      if (responses["422"] !== undefined) {
        const content = (responses["422"].content as Record<string, { schema: Json }>)["application/json"]!
        const { title: _, ...validation } = content.schema
        schemas.HTTPValidationError = {
          ...validation,
          title: "HTTPValidationError",
          properties: { ...(validation.properties as Json), error: (ErrorEnvelopeJson.properties as Json).error }
        }
        content.schema = { $ref: "#/components/schemas/HTTPValidationError" }
        responses["422"].description = "Validation Error"
      }
      if (errors !== undefined) {
        for (const [status, description] of ERROR_STATUSES) {
          responses[status] = { description, content: { "application/json": { schema: envelope } } }
        }
      }
      if (path.includes("/chat/") || path.includes("/models")) {
        operation.security = [{ APIKeyHeader: [] }, { BearerAuth: [] }]
      }
    }
  }
  schemas.ErrorEnvelope = ErrorEnvelopeJson
  return doc as unknown as OpenApi.OpenAPISpec
}

const ErrorEnvelopeJson = (JSONSchema.make(ErrorEnvelope) as unknown as { $defs: Record<string, Json> }).$defs
  .ErrorEnvelope!

/**
 * The contract as documented: `SwitchyardApi` under a key of its own, because
 * `OpenApi.fromApi` caches one document per API object whatever the options
 * of the first call. `openApiDocument` makes that first call and reshapes the
 * cached document in place, so `/openapi.json` and the docs page (which reads
 * the cache) show the same document.
 */
export const DocumentedApi = SwitchyardApi.annotate(OpenApi.Version, "0.1.0")

let document: OpenApi.OpenAPISpec | undefined

/**
 * The OpenAPI document of the contract, in the spec's shape; objects allow
 * additional properties, as in the spec. Computed once.
 */
export const openApiDocument = (): OpenApi.OpenAPISpec =>
  document ??= toSpecShape(OpenApi.fromApi(DocumentedApi, { additionalPropertiesStrategy: "allow" }))

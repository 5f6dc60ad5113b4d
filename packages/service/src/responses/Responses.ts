import {
  type ChatCompletionMessageParam,
  type CreateResponseRequest,
  type GatewayError,
  InvalidRequest,
  ResourceNotFound,
  type ResponseDeleted,
  type ResponseItem,
  type ResponseItemList,
  type ResponseObject,
  responsesRequestIssue,
  type ResponseStreamEvent,
  UnsupportedParameter
} from "@switchyard/core"
import { Chunk, Context, Effect, Layer, Option, type Scope, Stream } from "effect"
import { ChatCompletions } from "../ChatCompletions.js"
import type { ChunkPull } from "../Provider.js"
import type { RequestContext } from "../RequestContext.js"
import { ResponseEventWriter } from "./ResponseEventWriter.js"
import { type IdGenerator, newId } from "./ResponseIds.js"
import { referencedIds, responseBase, toChatRequest, toItems, toMessages } from "./ResponseInput.js"
import { type InputItemsPage, ResponsesStore } from "./ResponsesStore.js"

/** A response whose request has been checked and translated, not yet sent to the model. */
export interface PreparedResponse {
  /** Its id (`resp_…`), the same in every event and in the store. */
  readonly id: string
  /**
   * `response.created` and `response.in_progress`, the first time; nothing
   * after. A server that must commit its answer before the model starts (to
   * keep a connection alive) sends them early; `open` then leaves them out.
   */
  readonly start: () => ReadonlyArray<ResponseStreamEvent>
  /**
   * Calls the model, retried until its first chunk: the events so far
   * (the start events first, unless already given) and a pull of the rest.
   * Fails with a typed error, and no event, if the model never starts.
   */
  readonly open: Effect.Effect<OpenedResponse, GatewayError, Scope.Scope>
  /**
   * Ends a started stream with a failure: `error` then `response.failed`
   * (the start events first if they were not given), the failed response
   * stored when the request asked to store.
   */
  readonly fail: (error: GatewayError) => Effect.Effect<ReadonlyArray<ResponseStreamEvent>>
}

/** A streamed response that has started. */
export interface OpenedResponse {
  readonly id: string
  /** The first events: never empty. */
  readonly first: ReadonlyArray<ResponseStreamEvent>
  /**
   * The next events, or `null` after the terminal one. Never fails: a
   * failure of the model is reported in-band (`error`, `response.failed`).
   * The response is stored before the terminal event is handed out.
   */
  readonly pull: Effect.Effect<ReadonlyArray<ResponseStreamEvent> | null>
}

/** Options of the facade. */
export interface ResponsesOptions {
  /** Makes ids (default: random, `resp_` + 48 hex digits). */
  readonly ids?: IdGenerator | undefined
}

/**
 * The OpenAI Responses API over every vendor: Responses in, Responses out,
 * over `ChatCompletions` (so routing, retries, timeouts and everything else
 * that applies to chat completions applies here). Requests are checked
 * (what cannot be honoured is refused by name), `previous_response_id` and
 * `item_reference` are resolved from the `ResponsesStore`, and answers are
 * translated back, streamed or whole, and stored unless `store: false`.
 */
export class Responses extends Context.Tag("@switchyard/service/Responses")<Responses, {
  /** A whole response. A failure of the model is a typed error (no response is stored). */
  readonly create: (request: CreateResponseRequest, context: RequestContext) => Effect.Effect<ResponseObject, GatewayError>
  /** Checks and translates a request for streaming; see `PreparedResponse`. */
  readonly prepare: (request: CreateResponseRequest, context: RequestContext) => Effect.Effect<PreparedResponse, GatewayError>
  /** Prepares and opens a streamed response. */
  readonly open: (
    request: CreateResponseRequest,
    context: RequestContext
  ) => Effect.Effect<OpenedResponse, GatewayError, Scope.Scope>
  /** The events of a streamed response. It fails (before any event) only if the model never starts. */
  readonly stream: (request: CreateResponseRequest, context: RequestContext) => Stream.Stream<ResponseStreamEvent, GatewayError>
  /** A stored response of the caller's account (404 otherwise). */
  readonly retrieve: (id: string, context: RequestContext) => Effect.Effect<ResponseObject, GatewayError>
  /** Deletes a stored response of the caller's account (404 otherwise). */
  readonly delete: (id: string, context: RequestContext) => Effect.Effect<ResponseDeleted, GatewayError>
  /** A page of a stored response's input items. */
  readonly inputItems: (
    id: string,
    page: InputItemsPage,
    context: RequestContext
  ) => Effect.Effect<ResponseItemList, GatewayError>
}>() {
  /** The facade over the `ChatCompletions` and `ResponsesStore` in context. */
  static readonly layer = (
    options: ResponsesOptions = {}
  ): Layer.Layer<Responses, never, ChatCompletions | ResponsesStore> => Layer.effect(Responses, makeResponses(options))

  /** Builds the facade over the `ChatCompletions` and `ResponsesStore` in context. */
  static readonly make = (options: ResponsesOptions = {}) => makeResponses(options)
}

const notFound = (id: string) =>
  new ResourceNotFound({ message: `Response with id '${id}' not found.`, param: "response_id", code: "response_not_found" })

/** Chat parameters as the Responses API names them. */
const responsesNames: Readonly<Record<string, string>> = {
  max_completion_tokens: "max_output_tokens",
  reasoning_effort: "reasoning.effort",
  response_format: "text.format",
  verbosity: "text.verbosity",
  messages: "input"
}

/**
 * An error about a chat parameter (a vendor that cannot honour
 * `reasoning_effort`, say), renamed to the request's own field
 * (`reasoning.effort`). Message paths become `input`: history and
 * instructions shift the indexes.
 */
export const toResponsesParam = (error: GatewayError): GatewayError => {
  if (error._tag !== "UnsupportedParameter" && error._tag !== "InvalidRequest") return error
  const param = error.param
  if (param === undefined) return error
  const head = /^[^.[]+/.exec(param)?.[0] ?? param
  const name = responsesNames[head]
  if (name === undefined) return error
  const renamed = head === "messages" ? name : name + param.slice(head.length)
  return error._tag === "UnsupportedParameter"
    ? new UnsupportedParameter({ ...error, param: renamed })
    : new InvalidRequest({ ...error, message: error.message.replaceAll(`\`${head}\``, `\`${name}\``), param: renamed })
}

const makeResponses = (options: ResponsesOptions = {}) =>
  Effect.gen(function*() {
    const completions = yield* ChatCompletions
    const store = yield* ResponsesStore
    const ids = options.ids ?? newId
    const clock = yield* Effect.clock
    const nowSeconds = () => Math.floor(clock.unsafeCurrentTimeMillis() / 1000)

    /** The items of the conversation a response continues: each earlier response's input and output, oldest first. */
    const history = (previousId: string, accountId: string | undefined) =>
      Effect.gen(function*() {
        const { missing, responses } = yield* store.conversation(previousId, accountId)
        if (missing !== undefined) {
          return yield* new InvalidRequest({
            message: missing === previousId
              ? `Previous response with id '${missing}' not found.`
              : `Previous response with id '${previousId}' continues response '${missing}', which was not found (deleted?).`,
            param: "previous_response_id",
            code: "previous_response_not_found"
          })
        }
        // Oldest first. A failed response's partial output is no turn of the model (a half-made
        // call would have no result): only its input joins the conversation.
        const items: Array<ResponseItem> = []
        for (let i = responses.length - 1; i >= 0; i--) {
          const { input, response } = responses[i]!
          items.push(...input)
          if (response.status !== "failed") items.push(...response.output)
        }
        return items
      })

    const resolveReferences = (request: CreateResponseRequest, accountId: string | undefined) =>
      Effect.gen(function*() {
        const referenced = new Map<string, ResponseItem>()
        for (const { at, id } of referencedIds(request.input)) {
          if (referenced.has(id)) continue
          const item = yield* store.getItem(id, accountId)
          if (Option.isNone(item)) {
            return yield* new ResourceNotFound({ message: `Item with id '${id}' not found.`, param: at, code: "item_not_found" })
          }
          referenced.set(id, item.value)
        }
        return referenced
      })

    /** Checks a request and works out what the model is sent. */
    const translate = (request: CreateResponseRequest, context: RequestContext, stream: boolean) =>
      Effect.gen(function*() {
        const issue = responsesRequestIssue(request)
        if (issue !== undefined) return yield* issue
        const earlier = request.previous_response_id != null
          ? yield* history(request.previous_response_id, context.accountId)
          : []
        const referenced = yield* resolveReferences(request, context.accountId)
        const input = toItems(request.input, referenced, ids)
        if (earlier.length + input.length === 0) {
          return yield* new InvalidRequest({ message: "Missing required parameter: 'input'.", param: "input", code: "missing_required_parameter" })
        }
        const messages: Array<ChatCompletionMessageParam> = request.instructions != null
          ? [{ role: "system", content: request.instructions }, ...toMessages([...earlier, ...input])]
          : toMessages([...earlier, ...input])
        return {
          input,
          chat: toChatRequest(request, messages, stream),
          base: responseBase(request, ids("resp"), nowSeconds())
        }
      })

    const save = (request: CreateResponseRequest, response: ResponseObject, input: ReadonlyArray<ResponseItem>, context: RequestContext) =>
      request.store === false
        ? Effect.void
        : store.save({ response, input, accountId: context.accountId }).pipe(
          // The answer is delivered even if it could not be kept; chaining on it will then fail by name.
          Effect.catchAll((error) =>
            Effect.logError("Responses: could not store a response", error).pipe(
              Effect.annotateLogs({ response_id: response.id, request_id: context.requestId })
            )
          )
        )

    const create = Effect.fn("Responses.create")(function*(request: CreateResponseRequest, context: RequestContext) {
      const { base, chat, input } = yield* translate(request, context, false)
      const completion = yield* Effect.mapError(completions.create(chat, context), toResponsesParam)
      const writer = new ResponseEventWriter(base, ids, nowSeconds)
      const response = writer.complete(completion)
      yield* save(request, response, input, context)
      return response
    })

    const prepare = Effect.fn("Responses.prepare")(function*(request: CreateResponseRequest, context: RequestContext) {
      const { base, chat, input } = yield* translate(request, context, true)
      const writer = new ResponseEventWriter(base, ids, nowSeconds)

      const end = (ended: { readonly events: Array<ResponseStreamEvent>; readonly response: ResponseObject }) =>
        Effect.as(save(request, ended.response, input, context), ended.events)

      const pullFrom = (chunks: ChunkPull): Effect.Effect<ReadonlyArray<ResponseStreamEvent> | null> => {
        let done = false
        const next: Effect.Effect<ReadonlyArray<ResponseStreamEvent> | null> = Effect.suspend(() =>
          done
            ? Effect.succeed(null)
            : Effect.matchEffect(chunks, {
              onFailure: (error) => {
                done = true
                return end(writer.fail(toResponsesParam(error)))
              },
              onSuccess: (batch) => {
                if (batch === null) {
                  done = true
                  return end(writer.finish())
                }
                const events = writer.push(batch)
                return events.length > 0 ? Effect.succeed(events) : next
              }
            })
        )
        return next
      }

      const prepared: PreparedResponse = {
        id: base.id,
        start: () => writer.start(),
        open: Effect.map(Effect.mapError(completions.open(chat, context), toResponsesParam), ({ first, pull }) => ({
          id: base.id,
          first: writer.push(first),
          pull: pullFrom(pull)
        })),
        fail: (error) => end(writer.fail(error))
      }
      return prepared
    })

    const open = (request: CreateResponseRequest, context: RequestContext) =>
      Effect.flatMap(prepare(request, context), (prepared) => prepared.open)

    const stream = (request: CreateResponseRequest, context: RequestContext): Stream.Stream<ResponseStreamEvent, GatewayError> =>
      Stream.unwrapScoped(Effect.map(open(request, context), ({ first, pull }) =>
        Stream.concat(
          Stream.fromIterable(first),
          Stream.repeatEffectChunkOption(
            Effect.flatMap(pull, (events) =>
              events === null ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(events as Array<ResponseStreamEvent>)))
          )
        )))

    const retrieve = Effect.fn("Responses.retrieve")(function*(id: string, context: RequestContext) {
      const found = yield* store.get(id, context.accountId)
      if (Option.isNone(found)) return yield* notFound(id)
      return found.value.response
    })

    const delete_ = Effect.fn("Responses.delete")(function*(id: string, context: RequestContext) {
      const deleted = yield* store.delete(id, context.accountId)
      if (!deleted) return yield* notFound(id)
      const answer: ResponseDeleted = { id, object: "response", deleted: true }
      return answer
    })

    const inputItems = Effect.fn("Responses.inputItems")(function*(id: string, page: InputItemsPage, context: RequestContext) {
      const found = yield* store.inputItems(id, context.accountId, page)
      if (Option.isNone(found)) return yield* notFound(id)
      return found.value
    })

    return { create, prepare, open, stream, retrieve, delete: delete_, inputItems }
  })

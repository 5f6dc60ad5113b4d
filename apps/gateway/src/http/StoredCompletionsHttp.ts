import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import {
  CurrentCaller,
  InvalidRequest,
  ResourceNotFound,
  type StoredChatCompletion,
  type StoredCompletionMessage,
  SwitchyardApi
} from "@switchyard/core"
import { type CursorPage, type StoredCompletion, StoredCompletions } from "@switchyard/service"
import { Effect, Option } from "effect"

const METADATA_PARAM = /^metadata\[(.+)\]$/

/** `metadata[key]=value` pairs of a query string (the openai SDK's encoding of `metadata: {...}`). */
const metadataFilter = (url: string): Record<string, string> | undefined => {
  const query = url.indexOf("?")
  if (query === -1) return undefined
  let filter: Record<string, string> | undefined
  for (const [name, value] of new URLSearchParams(url.slice(query + 1))) {
    const match = METADATA_PARAM.exec(name)
    if (match !== null) (filter ??= {})[match[1]!] = value
  }
  return filter
}

const wire = (stored: StoredCompletion): StoredChatCompletion => ({
  ...stored.completion,
  id: stored.id,
  object: "chat.completion",
  metadata: stored.metadata,
  request_id: stored.requestId
})

const listOf = <A extends { readonly id: string }>(page: CursorPage<A>) => ({
  object: "list" as const,
  data: page.data,
  first_id: page.data[0]?.id ?? null,
  last_id: page.data[page.data.length - 1]?.id ?? null,
  has_more: page.hasMore
})

const notFound = (id: string) =>
  new ResourceNotFound({ message: `No stored chat completion with id \`${id}\`.`, code: "not_found" })

export const StoredCompletionsHttpLive = HttpApiBuilder.group(SwitchyardApi, "storedCompletions", (handlers) =>
  Effect.gen(function*() {
    const store = yield* StoredCompletions

    const list = ({ urlParams }: { readonly urlParams: { readonly model?: string | undefined; readonly after?: string | undefined; readonly limit?: number | undefined; readonly order?: "asc" | "desc" | undefined } }) =>
      Effect.gen(function*() {
        const { accountId } = yield* CurrentCaller
        const request = yield* HttpServerRequest.HttpServerRequest
        const page = yield* store.list({
          accountId,
          model: urlParams.model,
          metadata: metadataFilter(request.url),
          after: urlParams.after,
          limit: urlParams.limit ?? 20,
          order: urlParams.order ?? "asc"
        })
        return listOf({ data: page.data.map(wire), hasMore: page.hasMore })
      })

    const retrieve = ({ path }: { readonly path: { readonly id: string } }) =>
      Effect.gen(function*() {
        const { accountId } = yield* CurrentCaller
        const found = yield* store.get(accountId, path.id)
        return wire(yield* Option.match(found, { onNone: () => Effect.fail(notFound(path.id)), onSome: Effect.succeed }))
      })

    const update = ({ path, payload }: { readonly path: { readonly id: string }; readonly payload: { readonly metadata: { readonly [key: string]: string } | null } }) =>
      Effect.gen(function*() {
        const extra = Object.keys(payload).find((key) => key !== "metadata")
        if (extra !== undefined) {
          return yield* new InvalidRequest({
            message: `Only \`metadata\` of a stored completion may be updated; \`${extra}\` cannot.`,
            param: extra,
            code: "unsupported_parameter"
          })
        }
        const { accountId } = yield* CurrentCaller
        const updated = yield* store.updateMetadata(accountId, path.id, payload.metadata ?? {})
        return wire(yield* Option.match(updated, { onNone: () => Effect.fail(notFound(path.id)), onSome: Effect.succeed }))
      })

    const remove = ({ path }: { readonly path: { readonly id: string } }) =>
      Effect.gen(function*() {
        const { accountId } = yield* CurrentCaller
        if (!(yield* store.delete(accountId, path.id))) return yield* notFound(path.id)
        return { id: path.id, object: "chat.completion.deleted" as const, deleted: true as const }
      })

    const messages = ({ path, urlParams }: { readonly path: { readonly id: string }; readonly urlParams: { readonly after?: string | undefined; readonly limit?: number | undefined; readonly order?: "asc" | "desc" | undefined } }) =>
      Effect.gen(function*() {
        const { accountId } = yield* CurrentCaller
        const found = yield* store.messages(accountId, path.id, {
          after: urlParams.after,
          limit: urlParams.limit ?? 20,
          order: urlParams.order ?? "asc"
        })
        const page = yield* Option.match(found, { onNone: () => Effect.fail(notFound(path.id)), onSome: Effect.succeed })
        return listOf({
          data: page.data.map((m): StoredCompletionMessage => ({ ...m.message, id: m.id })),
          hasMore: page.hasMore
        })
      })

    return handlers
      .handle("listV5", list)
      .handle("retrieveV5", retrieve)
      .handle("updateV5", update)
      .handle("deleteV5", remove)
      .handle("messagesV5", messages)
      .handle("listV1", list)
      .handle("retrieveV1", retrieve)
      .handle("updateV1", update)
      .handle("deleteV1", remove)
      .handle("messagesV1", messages)
  }))

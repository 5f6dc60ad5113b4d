import { type ChatCompletion, ChatCompletionRequest, type StoreUnavailable } from "@switchyard/core"
import {
  layerMemoryStore,
  mintCompletionId,
  mintId,
  PriceCatalogue,
  type StoredCompletionRecord,
  type UsageRecord
} from "@switchyard/service"
import { Effect, Layer, Redacted, Schema } from "effect"
import { layer as storeLayer, Retention, type StoreOptions, type StoreServices } from "../src/index.js"

/** Prices for the tests: $2/$8 per million for openai/gpt-test, cached input at $1. */
export const testPrices = PriceCatalogue.layerStatic({
  "openai/gpt-test": { input_per_mtok: 2, output_per_mtok: 8, cached_input_per_mtok: 1 },
  "anthropic/claude-test": { input_per_mtok: 3, output_per_mtok: 15 }
})

export { freshPostgres, freshSqlite, tcpProxy, testDatabaseUrl } from "../src/testing/index.js"
import { freshPostgres, freshSqlite, testDatabaseUrl, warnIfNoPostgres } from "../src/testing/index.js"

warnIfNoPostgres()

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

/** A backend the shared repository suite runs against. */
export interface Backend {
  readonly name: string
  /** A fresh store (its own database or file) for a test suite. */
  readonly layer: (options?: Partial<StoreOptions>) => Layer.Layer<StoreServices | Retention, StoreUnavailable>
}

const retentionNone = Layer.succeed(Retention, { purge: Effect.succeed(0) })

/** The in-memory store of `@switchyard/service`. */
export const memory: Backend = {
  name: "memory",
  layer: () => Layer.mergeAll(layerMemoryStore, retentionNone).pipe(Layer.provide(testPrices))
}

/** The SQL store on a fresh SQLite file. */
export const sqlite: Backend = {
  name: "sqlite",
  layer: (options = {}) =>
    Layer.unwrapScoped(Effect.map(freshSqlite, (filename) =>
      storeLayer({ database: { _tag: "sqlite", filename }, ...options }).pipe(Layer.provide(testPrices))
    ))
}

/** The SQL store on a fresh PostgreSQL database (when the server is configured). */
const postgresBackend = (baseUrl: string): Backend => ({
  name: "postgres",
  layer: (options = {}) =>
    Layer.unwrapScoped(Effect.map(freshPostgres(baseUrl), (url) =>
      storeLayer({ database: { _tag: "postgres", url: Redacted.make(url) }, ...options }).pipe(
        Layer.provide(testPrices)
      )
    ))
})

export const postgres: Backend | undefined = testDatabaseUrl === undefined ? undefined : postgresBackend(testDatabaseUrl)

/** Every backend available here. */
export const backends: ReadonlyArray<Backend> = [memory, sqlite, ...(postgres ? [postgres] : [])]

/** SQL backends only, each with the location of a fresh database. */
export { freshLocations as sqlLocations } from "../src/testing/index.js"

/** A fresh account id, so that tests sharing a store do not see each other's rows. */
export const newAccount = (): string => `acct_${unique()}`

const decodeRequest = Schema.decodeUnknownSync(ChatCompletionRequest)

/** A stored completion record with sensible defaults. */
export const record = (
  options: {
    readonly accountId: string
    readonly createdAt: number
    readonly model?: string
    readonly metadata?: Record<string, string>
    readonly content?: string
    readonly messages?: ReadonlyArray<unknown>
    readonly id?: string
  }
): StoredCompletionRecord => {
  const id = options.id ?? mintCompletionId(options.createdAt)
  const model = options.model ?? "openai/gpt-test"
  const completion: ChatCompletion = {
    id,
    object: "chat.completion",
    created: Math.floor(options.createdAt / 1000),
    model,
    choices: [{
      index: 0,
      finish_reason: "stop",
      message: { role: "assistant", content: options.content ?? `answer ${id}` }
    }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
  }
  return {
    id,
    accountId: options.accountId,
    keyId: "key_test",
    requestId: `req_${id}`,
    createdAt: options.createdAt,
    model,
    target: model,
    status: "completed",
    stream: false,
    metadata: options.metadata ?? {},
    completion,
    latencyMs: 120,
    firstChunkMs: null,
    request: decodeRequest({
      model,
      messages: options.messages ?? [
        { role: "system", content: "Be brief." },
        { role: "user", content: `question for ${id}` }
      ],
      store: true,
      metadata: options.metadata ?? {}
    })
  }
}

/** A usage ledger row with sensible defaults. */
export const usage = (options: Partial<UsageRecord> & { readonly accountId: string; readonly createdAt: number }): UsageRecord => ({
  id: mintId("usage_", options.createdAt),
  keyId: "key_test",
  model: "openai/gpt-test",
  target: "openai/gpt-test",
  vendor: "openai",
  stream: false,
  status: "completed",
  promptTokens: 100,
  completionTokens: 50,
  cachedTokens: 0,
  reasoningTokens: 0,
  latencyMs: 200,
  firstChunkMs: null,
  ...options
})

import { SqlClient } from "@effect/sql"
import type { StoreUnavailable } from "@switchyard/core"
import {
  ApiKeys,
  PriceCatalogue,
  ResponsesStore,
  retentionCutoff,
  StoredCompletions,
  StoreHealth,
  type StoreStatus,
  UsageLedger
} from "@switchyard/service"
import { Context, Duration, Effect, Layer } from "effect"
import { clientLayer, query } from "./Database.js"
import { migrate } from "./Migrations.js"
import * as SqlApiKeys from "./SqlApiKeys.js"
import * as SqlResponses from "./SqlResponses.js"
import * as SqlStoredCompletions from "./SqlStoredCompletions.js"
import * as SqlUsageLedger from "./SqlUsageLedger.js"
import { type DatabaseLocation, describeLocation, type StoreOptions } from "./StoreConfig.js"
import { describeItem, type WriteItem } from "./WriteItem.js"
import * as WriteQueue from "./WriteQueue.js"

/** The ports the SQL store provides. */
export type StoreServices = StoredCompletions | UsageLedger | ApiKeys | ResponsesStore | StoreHealth

/**
 * Deletes expired stored completions and responses now; how many rows of
 * either. Runs hourly in the store, exposed for tests and operators.
 */
export class Retention extends Context.Tag("@switchyard/store/Retention")<Retention, {
  readonly purge: Effect.Effect<number, StoreUnavailable>
}>() {}

const make = (options: StoreOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const prices = yield* PriceCatalogue
    const backend = options.database._tag
    yield* migrate

    const pending: SqlStoredCompletions.PendingCompletions = new Map()
    const pendingResponses: SqlResponses.PendingResponses = new Map()
    const ping = query(sql`SELECT 1`)
    const queue = yield* WriteQueue.make<WriteItem, StoreUnavailable>({
      name: "store",
      capacity: options.queueCapacity ?? 10_000,
      batchSize: options.batchSize ?? 200,
      drainTimeout: options.drainTimeout,
      linger: options.writeLinger ?? Duration.millis(50),
      ping,
      describe: describeItem,
      onSettled: (batch) => {
        SqlStoredCompletions.settlePending(pending, batch)
        SqlResponses.settlePending(pendingResponses, batch)
      },
      write: (batch) => {
        const completions = []
        const usage = []
        const responses = []
        for (const item of batch) {
          if (item._tag === "completion") completions.push(item.record)
          else if (item._tag === "usage") usage.push(item.row)
          else responses.push(item.stored)
        }
        return query(sql.withTransaction(Effect.all([
          SqlStoredCompletions.insertCompletions(sql, completions),
          SqlUsageLedger.insertUsage(sql, usage),
          SqlResponses.insertResponses(sql, responses)
        ], { discard: true })))
      }
    })

    const completions = SqlStoredCompletions.make(sql, queue, pending)
    const ledger = SqlUsageLedger.make(sql, queue, prices)
    const responses = SqlResponses.make(sql, queue, pendingResponses, { writeWait: options.responseWriteWait })
    const keys = yield* SqlApiKeys.make(sql, { flushInterval: options.lastUsedFlushInterval })

    const retentionDays = options.retentionDays ?? 30
    const purgeBoth = Effect.flatMap(retentionCutoff(retentionDays), (cutoff) =>
      Effect.all({
        completions: SqlStoredCompletions.purgeBefore(sql, cutoff),
        responses: SqlResponses.purgeBefore(sql, cutoff)
      }))
    const purge = retentionDays > 0
      ? Effect.map(purgeBoth, ({ completions, responses }) => completions + responses)
      : Effect.succeed(0)
    if (retentionDays > 0) {
      yield* purgeBoth.pipe(
        Effect.tap(({ completions, responses }) =>
          completions + responses > 0
            ? Effect.logInfo(
              `Deleted ${completions} stored completions and ${responses} responses older than ${retentionDays} days`
            )
            : Effect.void
        ),
        Effect.catchAll((error) => Effect.logWarning("The retention job could not run", error.message)),
        Effect.delay(options.retentionInterval ?? Duration.hours(1)),
        Effect.forever,
        Effect.forkScoped
      )
    }

    const health: StoreHealth["Type"] = {
      stats: queue.stats,
      flush: queue.flush,
      status: Effect.timeout(ping, Duration.seconds(2)).pipe(
        Effect.match({
          onFailure: (error): StoreStatus => ({
            backend,
            healthy: false,
            lastError: error._tag === "TimeoutException" ? "The database did not answer within 2 s" : error.message,
            queue: queue.stats()
          }),
          onSuccess: (): StoreStatus => ({ backend, healthy: true, lastError: queue.lastError(), queue: queue.stats() })
        })
      )
    }

    yield* Effect.logDebug(`Store on ${describeLocation(options.database)}`)
    return Context.make(StoredCompletions, completions).pipe(
      Context.add(UsageLedger, ledger),
      Context.add(ApiKeys, keys),
      Context.add(ResponsesStore, responses),
      Context.add(StoreHealth, health),
      Context.add(Retention, { purge })
    )
  })

/**
 * Stored completions, the usage ledger, API keys and the Responses API's
 * responses on SQLite or PostgreSQL: connects, applies migrations, then
 * serves the ports. Writes go through one bounded queue drained when the
 * layer closes; expired stored completions and responses are deleted hourly.
 */
export const layer = (
  options: StoreOptions
): Layer.Layer<StoreServices | Retention, StoreUnavailable, PriceCatalogue> =>
  Layer.scopedContext(make(options)).pipe(Layer.provide(clientLayer(options.database)))

/** Applies the migrations a database lacks (`switchyard migrate`); the ids applied. */
export const migrateDatabase = (location: DatabaseLocation): Effect.Effect<ReadonlyArray<number>, StoreUnavailable> =>
  Effect.scoped(Layer.build(clientLayer(location)).pipe(
    Effect.flatMap((context) => Effect.provide(migrate, context))
  ))

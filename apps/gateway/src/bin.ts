#!/usr/bin/env node
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Logger, Option } from "effect"
import { run } from "./cli/index.js"

const message = (error: unknown): string =>
  error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { message: unknown }).message)
    : String(error)

run(process.argv).pipe(
  Effect.catchAllCause((cause) => {
    const failure = Cause.failureOption(cause)
    // @effect/cli has already printed usage errors with the help text.
    if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) return Effect.failCause(cause)
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
    const text = Option.match(failure, {
      onNone: () => Cause.pretty(cause),
      onSome: message
    })
    return Effect.zipRight(Effect.sync(() => process.stderr.write(`switchyard: ${text}\n`)), Effect.failCause(cause))
  }),
  Effect.provide(NodeContext.layer),
  // Diagnostics go to stderr: stdout is for what a command prints (a key's secret, JSON, the access log).
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true }))),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)

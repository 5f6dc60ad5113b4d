import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Logger, Option } from "effect"

/** The `switchyard` command around the given subcommands. */
export const rootCommand = <
  const Subcommands extends readonly [Command.Command<any, any, any, any>, ...Array<Command.Command<any, any, any, any>>]
>(subcommands: Subcommands) =>
  Command.make("switchyard").pipe(
    Command.withDescription("Switchyard: an OpenAI-compatible chat completions gateway"),
    Command.withSubcommands(subcommands)
  )

/**
 * A runner of `process.argv` for a `switchyard` command: the whole CLI
 * (`cli/index.ts`), or only `chat` (the entry `switchyard chat` starts from, `chat.ts`).
 */
export const runner = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>) =>
  Command.run(command, { name: "switchyard", version: "0.1.0" })

const message = (error: unknown): string =>
  error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { message: unknown }).message)
    : String(error)

/** Runs a CLI program as the process: its failures on stderr as `switchyard: …`, a non-zero exit code. */
export const runMain = <E>(program: Effect.Effect<void, E, NodeContext.NodeContext>): void =>
  program.pipe(
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

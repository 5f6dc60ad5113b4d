import { Effect, type Scope } from "effect"
import * as ChildProcess from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The `switchyard` command, as installed (it runs the compiled `dist/bin.js`: build with `tsc -b` first). */
export const binPath = fileURLToPath(new URL("../../bin/switchyard.js", import.meta.url))
export const builtBin = fileURLToPath(new URL("../../dist/bin.js", import.meta.url))

/** Whether the CLI is built (the root `npm test` runs `tsc -b` first). */
export const isBuilt = existsSync(builtBin)

/** A data directory for the subprocesses of this test file (their SQLite store), removed at exit. */
const dataDir = mkdtempSync(join(tmpdir(), "sy-bin-data-"))
process.on("exit", () => rmSync(dataDir, { recursive: true, force: true }))

/**
 * The environment of a subprocess: this one's, minus anything that would
 * configure Switchyard or a vendor, plus a data directory of its own (not the
 * working directory's `.switchyard/`), plus `extra`.
 */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(SWITCHYARD_|SGP_)/.test(name) || /_(API_KEY|BASE_URL)$/.test(name)) continue
    env[name] = value
  }
  return { ...env, NO_COLOR: "1", SWITCHYARD_DATA_DIR: dataDir, ...extra }
}

/** What a finished run printed and how it ended. */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Strips ANSI colour codes. */
export const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, "")

/** Runs `switchyard <args>` to its end; stdin is piped only when given (otherwise /dev/null). */
export const runCli = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string>; readonly stdin?: string; readonly timeoutMs?: number } = {}
): Effect.Effect<CliResult> =>
  Effect.async<CliResult>((resume) => {
    const child = ChildProcess.spawn(process.execPath, [binPath, ...args], {
      env: cleanEnv(options.env),
      stdio: [options.stdin !== undefined ? "pipe" : "ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      stdout += text
    })
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      stderr += text
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 45_000)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, signal, stdout, stderr }))
    })
    if (options.stdin !== undefined && child.stdin !== null) {
      child.stdin.on("error", () => undefined)
      child.stdin.end(options.stdin)
    }
    return Effect.sync(() => {
      clearTimeout(timer)
      child.kill("SIGKILL")
    })
  })

/** A `switchyard serve` subprocess that has said where it listens. */
export interface ServeProcess {
  readonly url: string
  readonly child: ChildProcess.ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

/**
 * Starts `switchyard serve <args>` and waits for "Switchyard listening on
 * <url>" on stderr; fails with its output if it exits first. Killed with the
 * scope if still running.
 */
export const startServe = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {}
): Effect.Effect<ServeProcess, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<ServeProcess, Error>((resume) => {
      const child = ChildProcess.spawn(process.execPath, [binPath, "serve", ...args], {
        env: cleanEnv(env),
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      let started = false
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal }))
      )
      const timer = setTimeout(() => {
        if (!started) {
          child.kill("SIGKILL")
          resume(Effect.fail(new Error(`serve did not start in time; stderr:\n${stderr}`)))
        }
        started = true
      }, 45_000)
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        stdout += text
      })
      child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text
        const match = /Switchyard listening on (http:\/\/\S+)/.exec(stderr)
        if (match !== null && !started) {
          started = true
          clearTimeout(timer)
          resume(Effect.succeed({ url: match[1]!, child, stdout: () => stdout, stderr: () => stderr, exited }))
        }
      })
      void exited.then(({ code, signal }) => {
        if (!started) {
          started = true
          clearTimeout(timer)
          resume(Effect.fail(new Error(`serve exited (${code ?? signal}) before listening; stderr:\n${stderr}`)))
        }
      })
    }),
    (serve) =>
      Effect.promise(async () => {
        if (serve.child.exitCode === null && serve.child.signalCode === null) {
          serve.child.kill("SIGKILL")
          await serve.exited
        }
      })
  )

/**
 * CLI start-up, timed like hyperfine: a few warm-up runs, then N runs
 * (`BENCH_CLI_RUNS`; 10, or 3 with --quick), reporting median, min and max:
 * the wall time of `switchyard --version`, and the time from exec to the first
 * token `switchyard chat "hi" -m echo/x` prints (the offline echo vendor).
 * Each runs as a user's shell runs it, free to use every core (the goal's
 * measure), and again pinned to one core, as the benchmark's other children
 * are: V8's compiler and GC threads then take turns with the main thread.
 */
import { spawn } from "node:child_process"
import { median } from "../lib/load.js"
import { CORE_LOAD, here, onAllCores, onCore, pinned } from "../lib/processes.js"
import type { Scenario } from "../lib/scenario.js"

interface Timing {
  readonly firstOutputMs: number
  readonly exitMs: number
}

const bin = () => process.env.BENCH_CLI ?? here("../bin/switchyard.js")

type Placement = "all cores" | "one core"

const once = (args: ReadonlyArray<string>, placement: Placement) =>
  new Promise<Timing>((resolve, reject) => {
    const [command, argv] = placement === "all cores" ? onAllCores(bin(), args) : onCore(CORE_LOAD, bin(), args)
    const started = performance.now()
    let firstOutputMs = NaN
    let output = ""
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } })
    child.stdout.on("data", (d: Buffer) => {
      if (Number.isNaN(firstOutputMs)) firstOutputMs = performance.now() - started
      output += d.toString()
    })
    child.stderr.on("data", (d: Buffer) => (output += d.toString()))
    child.on("error", reject)
    child.on("exit", (code) => {
      const exitMs = performance.now() - started
      if (code !== 0) reject(new Error(`switchyard ${args.join(" ")} exited with ${code}: ${output.slice(0, 500)}`))
      else resolve({ firstOutputMs, exitMs })
    })
  })

const timeIt = async (args: ReadonlyArray<string>, warmups: number, runs: number, placement: Placement) => {
  for (let i = 0; i < warmups; i++) await once(args, placement)
  const samples: Array<Timing> = []
  for (let i = 0; i < runs; i++) samples.push(await once(args, placement))
  const stats = (values: Array<number>) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) })
  return { first: stats(samples.map((s) => s.firstOutputMs)), exit: stats(samples.map((s) => s.exitMs)) }
}

export const cli: Scenario = {
  name: "cli",
  title: "CLI start-up",
  byDefault: true,
  run: async (ctx) => {
    const runs = Number(process.env.BENCH_CLI_RUNS ?? (ctx.settings.quick ? 3 : 10))
    ctx.log(`CLI: switchyard --version, switchyard chat "hi" -m echo/x (${runs} runs each)…`)
    const version = await timeIt(["--version"], 2, runs, "all cores")
    const chat = await timeIt(["chat", "hi", "-m", "echo/x"], 2, runs, "all cores")
    ctx.results.set("cli.version", version.exit.median)
    ctx.results.set("cli.chat.first", chat.first.median)
    const ms = (s: { median: number; min: number; max: number }) =>
      `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`
    const rows = [
      `| command | measure | median (min–max) of ${runs} |`,
      "|---|---|---|",
      `| \`switchyard --version\` | exec to exit | ${ms(version.exit)} |`,
      `| \`switchyard chat "hi" -m echo/x\` | exec to first token | ${ms(chat.first)} |`,
      `| \`switchyard chat "hi" -m echo/x\` | exec to exit | ${ms(chat.exit)} |`
    ]
    if (pinned) {
      const version1 = await timeIt(["--version"], 1, runs, "one core")
      const chat1 = await timeIt(["chat", "hi", "-m", "echo/x"], 1, runs, "one core")
      rows.push(
        `| \`switchyard --version\`, on one core | exec to exit | ${ms(version1.exit)} |`,
        `| \`switchyard chat "hi" -m echo/x\`, on one core | exec to first token | ${ms(chat1.first)} |`
      )
    }
    return rows.join("\n")
  }
}

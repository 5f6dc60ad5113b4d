/**
 * CLI start-up, timed like hyperfine: a few warm-up runs, then N runs
 * (`BENCH_CLI_RUNS`; 10, or 3 with --quick), reporting median, min and max:
 * the wall time of `switchyard --version`, and the time from exec to the first
 * token `switchyard chat "hi" -m echo/x` prints (the offline echo vendor).
 */
import { spawn } from "node:child_process"
import { median } from "../lib/load.js"
import { here } from "../lib/processes.js"
import type { Scenario } from "../lib/scenario.js"

interface Timing {
  readonly firstOutputMs: number
  readonly exitMs: number
}

const bin = () => process.env.BENCH_CLI ?? here("../bin/switchyard.js")

const once = (args: ReadonlyArray<string>) =>
  new Promise<Timing>((resolve, reject) => {
    const started = performance.now()
    let firstOutputMs = NaN
    let output = ""
    const child = spawn(bin(), args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } })
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

const timeIt = async (args: ReadonlyArray<string>, warmups: number, runs: number) => {
  for (let i = 0; i < warmups; i++) await once(args)
  const samples: Array<Timing> = []
  for (let i = 0; i < runs; i++) samples.push(await once(args))
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
    const version = await timeIt(["--version"], 2, runs)
    const chat = await timeIt(["chat", "hi", "-m", "echo/x"], 2, runs)
    ctx.results.set("cli.version", version.exit.median)
    ctx.results.set("cli.chat.first", chat.first.median)
    const ms = (s: { median: number; min: number; max: number }) =>
      `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`
    return [
      `| command | measure | median (min–max) of ${runs} |`,
      "|---|---|---|",
      `| \`switchyard --version\` | exec to exit | ${ms(version.exit)} |`,
      `| \`switchyard chat "hi" -m echo/x\` | exec to first token | ${ms(chat.first)} |`,
      `| \`switchyard chat "hi" -m echo/x\` | exec to exit | ${ms(chat.exit)} |`
    ].join("\n")
  }
}

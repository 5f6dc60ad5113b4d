/**
 * Child processes of the benchmark, pinned to cores with `taskset` when it
 * exists and the machine has two cores or more: the gateway (or the relay)
 * under test on core 0, the upstream, the load generator and this process on
 * core 1. CPU time and memory are read from /proc.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"

/** A path relative to the bench folder. */
export const here = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url))

const taskset = existsSync("/usr/bin/taskset") ? "/usr/bin/taskset" : undefined

/** Whether processes are pinned (needs taskset and two cores). */
export const pinned = taskset !== undefined && availableParallelism() >= 2

/** The core of the process under test, and the core of everything else. */
export const CORE_UNDER_TEST = 0
export const CORE_LOAD = 1

/** Pins this process (the load driver) to the load core. */
export const pinSelf = (): void => {
  if (pinned) spawn(taskset!, ["-p", "-c", String(CORE_LOAD), String(process.pid)], { stdio: "ignore" })
}

/** The command line that runs `command args` on a core (or unpinned). */
export const onCore = (core: number, command: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  pinned ? [taskset!, ["-c", String(core), command, ...args]] : [command, [...args]]

/**
 * The command line that runs `command args` on every core, as a user's shell runs it (children
 * otherwise inherit this process's pin to the load core).
 */
export const onAllCores = (command: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  pinned ? [taskset!, ["-c", `0-${availableParallelism() - 1}`, command, ...args]] : [command, [...args]]

/** A started child process and the URL it serves. */
export interface Started {
  readonly name: string
  readonly child: ChildProcess
  readonly url: string
  /** Stops it (SIGKILL: the benchmark does not wait for graceful shutdowns). */
  readonly stop: () => void
  /** The last few KB it wrote to stderr since it was ready. */
  readonly stderrTail: () => string
}

const running = new Set<ChildProcess>()
const stopAll = () => {
  for (const child of running) child.kill("SIGKILL")
}
process.on("exit", stopAll)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopAll()
    process.exit(130)
  })
}

/**
 * Starts `node args` on a core and waits until its output matches `ready`
 * (whose first group is a port or a URL). stdout is discarded when
 * `quietStdout` is set (the gateway's access log), so that reading it costs
 * the load core nothing.
 */
export const startNode = (options: {
  readonly name: string
  readonly core: number
  readonly args: ReadonlyArray<string>
  readonly env?: Record<string, string>
  readonly ready: RegExp
  readonly quietStdout?: boolean
  readonly nodeOptions?: ReadonlyArray<string>
}): Promise<Started> =>
  new Promise<Started>((resolve, reject) => {
    const [command, argv] = onCore(options.core, process.execPath, [...(options.nodeOptions ?? []), ...options.args])
    const child = spawn(command, argv, {
      env: { ...process.env, ...options.env },
      stdio: ["ignore", options.quietStdout === true ? "ignore" : "pipe", "pipe"]
    })
    running.add(child)
    let output = ""
    const streams = [child.stdout, child.stderr].filter((s) => s !== null)
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = options.ready.exec(output)
      if (match === null) return
      for (const s of streams) s.off("data", onData)
      child.stdout?.resume()
      let tail = ""
      child.stderr!.on("data", (data: Buffer) => {
        tail = (tail + data.toString()).slice(-4096)
      })
      const found = match[1]!
      resolve({
        name: options.name,
        child,
        url: found.startsWith("http") ? found : `http://127.0.0.1:${found}`,
        stop: () => {
          child.kill("SIGKILL")
          running.delete(child)
        },
        stderrTail: () => tail
      })
    }
    for (const s of streams) s.on("data", onData)
    child.on("exit", (code, signal) => {
      running.delete(child)
      reject(new Error(`${options.name} exited (${code ?? signal}): ${output.slice(-2000)}`))
    })
  })

/** CPU time and memory of a process, from /proc. */
export interface ProcStats {
  readonly cpuMs: number
  readonly rssMb: number
  readonly peakMb: number
}

const clockTicks = 100

/** Reads a process's CPU time (user + system) and its current and peak resident memory. */
export const procStats = (pid: number): ProcStats => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return {
    cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks,
    rssMb: kb("VmRSS") / 1024,
    peakMb: kb("VmHWM") / 1024
  }
}

/** How many file descriptors a process holds. */
export const openFiles = (pid: number): number => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return 0
  }
}

/** A process's soft limit on open files (RLIMIT_NOFILE), from /proc. */
export const fileLimit = (pid: number): { soft: number; hard: number } => {
  const line = /Max open files\s+(\S+)\s+(\S+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))
  const value = (text: string | undefined) => text === undefined || text === "unlimited" ? Infinity : Number(text)
  return { soft: value(line?.[1]), hard: value(line?.[2]) }
}

/** The pid of the process under test: the child itself (taskset execs node in place). */
export const pidOf = (started: Started): number => started.child.pid!

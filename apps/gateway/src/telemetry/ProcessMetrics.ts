import { counter, gauge } from "@switchyard/service"
import * as Fs from "node:fs"
import { monitorEventLoopDelay } from "node:perf_hooks"

const Process = {
  residentMemory: gauge("process_resident_memory_bytes", "Resident memory size in bytes", []),
  heapUsed: gauge("nodejs_heap_size_used_bytes", "V8 heap in use, in bytes", []),
  heapTotal: gauge("nodejs_heap_size_total_bytes", "V8 heap allocated, in bytes", []),
  external: gauge("nodejs_external_memory_bytes", "Memory of C++ objects bound to JavaScript objects (buffers), in bytes", []),
  lag: gauge("nodejs_eventloop_lag_seconds", "Mean event loop lag since the previous scrape", []),
  lagP99: gauge("nodejs_eventloop_lag_p99_seconds", "99th percentile of the event loop lag since the previous scrape", []),
  lagMax: gauge("nodejs_eventloop_lag_max_seconds", "Largest event loop lag since the previous scrape", []),
  openFds: gauge("process_open_fds", "Open file descriptors", []),
  maxFds: gauge("process_max_fds", "Largest number of open file descriptors allowed", []),
  cpu: counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds", []),
  startTime: gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds", [])
}

const countOpenFds = (): number | undefined => {
  try {
    // The directory listing itself holds one descriptor.
    return Fs.readdirSync("/proc/self/fd").length - 1
  } catch {
    return undefined
  }
}

const readMaxFds = (): number | undefined => {
  try {
    const line = Fs.readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"))
    const soft = line?.split(/\s+/)[3]
    return soft === undefined || soft === "unlimited" ? undefined : Number(soft)
  } catch {
    return undefined
  }
}

/**
 * Process metrics, read when scraped: memory, heap, open file descriptors, CPU
 * time, and the event loop's lag (sampled every 10 ms by Node's histogram,
 * reset at each scrape). `stop` ends the sampling.
 */
export const makeProcessMetrics = () => {
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const maxFds = readMaxFds()
  let cpuSeconds = 0
  Process.startTime.set([], Math.round((Date.now() - performance.now()) / 1000))
  return {
    collect: () => {
      const memory = process.memoryUsage()
      Process.residentMemory.set([], memory.rss)
      Process.heapUsed.set([], memory.heapUsed)
      Process.heapTotal.set([], memory.heapTotal)
      Process.external.set([], memory.external)
      if (loop.count > 0) {
        Process.lag.set([], loop.mean / 1e9)
        Process.lagP99.set([], loop.percentile(99) / 1e9)
        Process.lagMax.set([], loop.max / 1e9)
      }
      loop.reset()
      const fds = countOpenFds()
      if (fds !== undefined) Process.openFds.set([], fds)
      if (maxFds !== undefined) Process.maxFds.set([], maxFds)
      const usage = process.cpuUsage()
      const total = (usage.user + usage.system) / 1e6
      Process.cpu.inc([], total - cpuSeconds)
      cpuSeconds = total
    },
    stop: () => loop.disable()
  }
}

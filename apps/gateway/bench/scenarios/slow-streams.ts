/**
 * 10,000 concurrent slow streams held by one gateway process: 20 chunks, 2 s
 * apart (40 s each: longer than the gateway takes to open them all), opened in
 * a ramp of 1,000 per second. Every stream must end with `data: [DONE]`.
 * `BENCH_SLOW_STREAMS` sets the count (1,000 with --quick, 200 ms apart).
 *
 * Each relayed stream holds two sockets in the gateway (client and upstream),
 * so the gateway needs about 2 × N + 50 file descriptors. A process cannot
 * raise its limit above the hard RLIMIT_NOFILE (node already raises the soft
 * limit to it); when that is too low, the step runs as many streams as fit,
 * and says so, unless `BENCH_SLOW_STREAMS` asks for an exact count.
 */
import * as http from "node:http"
import { BENCH_KEY, requestBody } from "../lib/load.js"
import { fileLimit, openFiles, pidOf, procStats } from "../lib/processes.js"
import type { Scenario } from "../lib/scenario.js"
import { gatewayDefault, startTarget } from "../lib/targets.js"

const RAMP_PER_SECOND = 1_000
const BATCHES_PER_SECOND = 10

interface Outcome {
  ok: number
  failed: number
  peakConcurrent: number
  firstError: string | undefined
}

const hold = (base: string, count: number, model: string) =>
  new Promise<Outcome>((resolve) => {
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
    const outcome: Outcome = { ok: 0, failed: 0, peakConcurrent: 0, firstError: undefined }
    let open = 0
    const body = requestBody(true, model)
    const finish = (ok: boolean, why?: string) => {
      if (ok) outcome.ok++
      else {
        outcome.failed++
        outcome.firstError ??= why
      }
      if (outcome.ok + outcome.failed === count) {
        agent.destroy()
        resolve(outcome)
      }
    }
    const one = () => {
      let done = false
      const settle = (ok: boolean, why?: string) => {
        if (done) return
        done = true
        finish(ok, why)
      }
      const req = http.request(`${base}/chat/completions`, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", authorization: `Bearer ${BENCH_KEY}` }
      }, (res) => {
        let counted = false
        let tail = ""
        res.setEncoding("utf8")
        res.on("data", (d: string) => {
          if (!counted) {
            counted = true
            open++
            if (open > outcome.peakConcurrent) outcome.peakConcurrent = open
          }
          tail = (tail + d).slice(-64)
        })
        res.on("end", () => {
          if (counted) open--
          const ok = res.statusCode === 200 && tail.endsWith("data: [DONE]\n\n")
          settle(ok, ok ? undefined : `status ${res.statusCode}: ${tail.trim()}`)
        })
        res.on("error", (error) => {
          if (counted) open--
          settle(false, error.message)
        })
      })
      req.on("error", (error) => settle(false, error.message))
      req.end(body)
    }
    const batch = Math.ceil(RAMP_PER_SECOND / BATCHES_PER_SECOND)
    let started = 0
    const timer = setInterval(() => {
      for (let i = 0; i < batch && started < count; i++, started++) one()
      if (started === count) clearInterval(timer)
    }, 1000 / BATCHES_PER_SECOND)
  })

export const slowStreams: Scenario = {
  name: "slow-streams",
  title: "Concurrent slow streams held by one gateway process",
  byDefault: true,
  run: async (ctx) => {
    const asked = process.env.BENCH_SLOW_STREAMS
    const wanted = asked !== undefined ? Number(asked) : ctx.settings.quick ? 1_000 : 10_000
    const interval = ctx.settings.quick ? 200 : 2_000
    const target = await startTarget(gatewayDefault, ctx.upstreamV1)
    try {
      const pid = pidOf(target.process)
      const limit = fileLimit(pid)
      const idleFds = openFiles(pid)
      const fits = Math.floor((limit.soft - idleFds - 50) / 2)
      const count = asked === undefined ? Math.min(wanted, fits) : wanted
      const capped = count < wanted
      ctx.log(
        `${count} slow streams (${interval} ms between chunks)` +
          (capped ? `: capped from ${wanted} by the open-file limit ${limit.soft}` : "") + "…"
      )
      const before = procStats(pid)
      let peakFds = 0
      let peakRss = 0
      const sampler = setInterval(() => {
        peakFds = Math.max(peakFds, openFiles(pid))
        peakRss = Math.max(peakRss, procStats(pid).rssMb)
      }, 500)
      const started = performance.now()
      const outcome = await hold(target.base, count, `openai/slow-${interval}`)
      clearInterval(sampler)
      const seconds = (performance.now() - started) / 1000
      const after = procStats(pid)
      ctx.results.set("slow.wanted", wanted)
      ctx.results.set("slow.count", count)
      ctx.results.set("slow.ok", outcome.ok)
      ctx.results.set("slow.failed", outcome.failed)
      ctx.results.set("slow.peakMb", after.peakMb)
      const lines = [
        "| streams | completed | failed | peak concurrent (client side) | gateway peak fds | gateway RSS before → peak MB | gateway CPU s | wall s |",
        "|---|---|---|---|---|---|---|---|",
        `| ${count} | ${outcome.ok} | ${outcome.failed} | ${outcome.peakConcurrent} | ${peakFds} | ${before.rssMb.toFixed(0)} → ${
          Math.max(peakRss, after.rssMb).toFixed(0)
        } (VmHWM ${after.peakMb.toFixed(0)}) | ${((after.cpuMs - before.cpuMs) / 1000).toFixed(1)} | ${seconds.toFixed(1)} |`
      ]
      if (outcome.firstError !== undefined) lines.push("", `First failure: ${outcome.firstError.slice(0, 300)}`)
      if (capped) {
        lines.push(
          "",
          `**Capped: ${wanted} were asked, ${count} fit.** The gateway's open-file limit is ${limit.soft} (hard ${limit.hard}) ` +
            `and it holds two sockets per relayed stream (${idleFds} fds when idle), so it can hold about ${fits}. ` +
            `Raise the hard limit (\`ulimit -Hn\`, as root or in the container's settings) to run ${wanted}; ` +
            `\`BENCH_SLOW_STREAMS=${wanted}\` runs exactly that many anyway.`
        )
      }
      return lines.join("\n")
    } finally {
      target.process.stop()
    }
  }
}

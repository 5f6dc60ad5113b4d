/**
 * 10,000 concurrent slow streams held by one gateway process. Each stream's
 * first chunk comes at once, the other 19 only after a hold long enough for
 * all the streams to be open together (the ramp's length plus 15 s); they are
 * opened at 500 per second. Every stream must end with `data: [DONE]`.
 * `BENCH_SLOW_STREAMS` sets the count (1,000 with --quick, opened at 1,000 per
 * second and held 4 s after the ramp).
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
import { gatewayDefault, relay, startTarget } from "../lib/targets.js"

const BATCHES_PER_SECOND = 10

interface Outcome {
  ok: number
  failed: number
  peakConcurrent: number
  /** Failures by reason. */
  readonly reasons: Map<string, number>
}

const hold = (base: string, count: number, perSecond: number, model: string) =>
  new Promise<Outcome>((resolve) => {
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
    const outcome: Outcome = { ok: 0, failed: 0, peakConcurrent: 0, reasons: new Map() }
    let open = 0
    const body = requestBody(true, model)
    const finish = (ok: boolean, why?: string) => {
      if (ok) outcome.ok++
      else {
        outcome.failed++
        const reason = (why ?? "unknown").slice(0, 120)
        outcome.reasons.set(reason, (outcome.reasons.get(reason) ?? 0) + 1)
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
    const batch = Math.ceil(perSecond / BATCHES_PER_SECOND)
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
    const perSecond = ctx.settings.quick ? 1_000 : 500
    // BENCH_SLOW_TARGET=relay runs the step against the bare relay instead, for reference.
    const target = await startTarget(process.env.BENCH_SLOW_TARGET === "relay" ? relay : gatewayDefault, ctx.upstreamV1)
    try {
      const pid = pidOf(target.process)
      const who = target.spec.kind === "relay" ? "relay" : "gateway"
      const limit = fileLimit(pid)
      const idleFds = openFiles(pid)
      const fits = Math.floor((limit.soft - idleFds - 50) / 2)
      const count = asked === undefined ? Math.min(wanted, fits) : wanted
      const capped = count < wanted
      const holdMs = Math.ceil((count / perSecond) * 1000) + (ctx.settings.quick ? 4_000 : 15_000)
      ctx.log(
        `${count} slow streams (opened at ${perSecond}/s, held ${(holdMs / 1000).toFixed(0)} s)` +
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
      const outcome = await hold(target.base, count, perSecond, `openai/hold-${holdMs}`)
      clearInterval(sampler)
      const seconds = (performance.now() - started) / 1000
      const after = procStats(pid)
      ctx.results.set("slow.wanted", wanted)
      ctx.results.set("slow.count", count)
      ctx.results.set("slow.ok", outcome.ok)
      ctx.results.set("slow.failed", outcome.failed)
      if (target.spec.kind === "gateway") ctx.results.set("slow.peakMb", after.peakMb)
      const lines = [
        `| streams | completed | failed | peak concurrent (client side) | ${who} peak fds | ${who} RSS before → peak MB | KB per stream | ${who} CPU ms per stream | wall s |`,
        "|---|---|---|---|---|---|---|---|---|",
        `| ${count} | ${outcome.ok} | ${outcome.failed} | ${outcome.peakConcurrent} | ${peakFds} | ${before.rssMb.toFixed(0)} → ${
          Math.max(peakRss, after.rssMb).toFixed(0)
        } (VmHWM ${after.peakMb.toFixed(0)}) | ${((1024 * (after.peakMb - before.rssMb)) / count).toFixed(0)} | ${
          ((after.cpuMs - before.cpuMs) / count).toFixed(2)
        } | ${seconds.toFixed(1)} |`
      ]
      if (outcome.failed > 0) {
        const reasons = [...outcome.reasons].sort((a, b) => b[1] - a[1]).slice(0, 5)
        lines.push("", `Failures: ${reasons.map(([why, n]) => `${n} × ${why}`).join("; ")}.`)
        const tail = target.process.stderrTail().trim()
        if (tail.length > 0) lines.push("", "Gateway stderr (last lines):", "", "```", ...tail.split("\n").slice(-10), "```")
      }
      if (capped) {
        lines.push(
          "",
          `**Capped: ${wanted} were asked, ${count} fit.** The gateway's open-file limit is ${limit.soft} (hard ${limit.hard}) ` +
            `and it holds two sockets per relayed stream (${idleFds} fds when idle), so it can hold about ${fits}. ` +
            `Raise the hard limit (\`ulimit -Hn\`, as root or in the container's settings) to run ${wanted}; ` +
            `\`BENCH_SLOW_STREAMS=${wanted}\` runs exactly that many anyway.`
        )
      }
      lines.push(
        "",
        "For reference (measured here once, 4,000 streams): the bare relay held them in about 28 KB and 1.1 ms of CPU each, " +
          "so 10,000 held streams need about 340 MB even there. `BENCH_SLOW_TARGET=relay` runs this step against the relay."
      )
      return lines.join("\n")
    } finally {
      target.process.stop()
    }
  }
}

/**
 * 10,000 concurrent slow streams held by one gateway process. Each stream gets
 * its first chunk at once; the upstream holds the other 19 until every stream
 * is open (the first chunk has reached the client), then releases them all.
 * Streams are opened as fast as the gateway takes them, with at most 256
 * waiting for their first chunk (so no listen queue overflows). Every stream
 * must end with `data: [DONE]`. `BENCH_SLOW_STREAMS` sets the count (1,000
 * with --quick).
 *
 * Each relayed stream holds two sockets in the gateway (client and upstream),
 * so the gateway needs about 2 × N + 50 file descriptors. A process cannot
 * raise its limit above the hard RLIMIT_NOFILE (node already raises the soft
 * limit to it); when that is too low, the step runs as many streams as fit,
 * and says so, unless `BENCH_SLOW_STREAMS` asks for an exact count.
 * `BENCH_SLOW_TARGET=relay` runs the step against the bare relay instead.
 */
import * as http from "node:http"
import { BENCH_KEY, requestBody } from "../lib/load.js"
import { fileLimit, openFiles, pidOf, procStats } from "../lib/processes.js"
import type { Scenario } from "../lib/scenario.js"
import { gatewayDefault, relay, startTarget } from "../lib/targets.js"

const MAX_OPENING = 256
/** Give up opening after this long, and release what is open. */
const OPEN_DEADLINE_MS = 300_000

interface Outcome {
  ok: number
  failed: number
  /** Streams whose first chunk arrived and that have not ended. */
  open: number
  peakOpen: number
  /** Failures by reason. */
  readonly reasons: Map<string, number>
}

/** Opens `count` streams, resolves `opened` once each has its first chunk or failed, and `done` once all ended. */
const holdStreams = (base: string, count: number) => {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
  const outcome: Outcome = { ok: 0, failed: 0, open: 0, peakOpen: 0, reasons: new Map() }
  const body = requestBody(true, "openai/hold")
  let started = 0
  let opening = 0
  let settledOpening = 0
  let resolveOpened: () => void = () => {}
  let resolveDone: () => void = () => {}
  const opened = new Promise<void>((r) => (resolveOpened = r))
  const done = new Promise<void>((r) => (resolveDone = r))
  const openedOne = () => {
    opening--
    if (++settledOpening === count) resolveOpened()
    else startMore()
  }
  const finish = (ok: boolean, why?: string) => {
    if (ok) outcome.ok++
    else {
      outcome.failed++
      const reason = (why ?? "unknown").slice(0, 120)
      outcome.reasons.set(reason, (outcome.reasons.get(reason) ?? 0) + 1)
    }
    if (outcome.ok + outcome.failed === count) {
      agent.destroy()
      resolveDone()
    }
  }
  const one = () => {
    let first = false
    let ended = false
    const settle = (ok: boolean, why?: string) => {
      if (ended) return
      ended = true
      if (first) outcome.open--
      else openedOne()
      finish(ok, why)
    }
    const req = http.request(`${base}/chat/completions`, {
      method: "POST",
      agent,
      headers: { "content-type": "application/json", authorization: `Bearer ${BENCH_KEY}` }
    }, (res) => {
      let tail = ""
      res.setEncoding("utf8")
      res.on("data", (d: string) => {
        if (!first) {
          first = true
          outcome.open++
          outcome.peakOpen = Math.max(outcome.peakOpen, outcome.open)
          openedOne()
        }
        tail = (tail + d).slice(-64)
      })
      res.on("end", () => {
        const ok = res.statusCode === 200 && tail.endsWith("data: [DONE]\n\n")
        settle(ok, ok ? undefined : `status ${res.statusCode}: ${tail.trim()}`)
      })
      res.on("error", (error) => settle(false, error.message))
    })
    req.on("error", (error) => settle(false, error.message))
    req.end(body)
  }
  const startMore = () => {
    while (opening < MAX_OPENING && started < count) {
      opening++
      started++
      one()
    }
  }
  startMore()
  return { outcome, opened, done }
}

const release = (upstream: string) =>
  new Promise<void>((resolve, reject) => {
    http.request(`${upstream}/release`, { method: "POST" }, (res) => {
      res.resume()
      res.on("end", () => resolve())
    }).on("error", reject).end()
  })

export const slowStreams: Scenario = {
  name: "slow-streams",
  title: "Concurrent slow streams held by one gateway process",
  byDefault: true,
  run: async (ctx) => {
    const asked = process.env.BENCH_SLOW_STREAMS
    const wanted = asked !== undefined ? Number(asked) : ctx.settings.quick ? 1_000 : 10_000
    const target = await startTarget(process.env.BENCH_SLOW_TARGET === "relay" ? relay : gatewayDefault, ctx.upstreamV1)
    try {
      const pid = pidOf(target.process)
      const who = target.spec.kind === "relay" ? "relay" : "gateway"
      const limit = fileLimit(pid)
      const idleFds = openFiles(pid)
      const fits = Math.floor((limit.soft - idleFds - 50) / 2)
      const count = asked === undefined ? Math.min(wanted, fits) : wanted
      const capped = count < wanted
      ctx.log(`${count} slow streams, held until all are open` + (capped ? ` (capped from ${wanted} by the open-file limit ${limit.soft})` : "") + "…")
      const before = procStats(pid)
      let peakFds = 0
      let peakRss = 0
      const sample = () => {
        peakFds = Math.max(peakFds, openFiles(pid))
        peakRss = Math.max(peakRss, procStats(pid).rssMb)
      }
      const sampler = setInterval(sample, 500)
      const started = performance.now()
      const { outcome, opened, done } = holdStreams(target.base, count)
      await Promise.race([opened, new Promise((r) => setTimeout(r, OPEN_DEADLINE_MS))])
      const openSeconds = (performance.now() - started) / 1000
      await new Promise((r) => setTimeout(r, 1_000))
      sample()
      const heldTogether = outcome.open
      await release(ctx.upstreamV1.replace(/\/v1$/, ""))
      await done
      clearInterval(sampler)
      const seconds = (performance.now() - started) / 1000
      const after = procStats(pid)
      ctx.results.set("slow.wanted", wanted)
      ctx.results.set("slow.count", count)
      ctx.results.set("slow.ok", outcome.ok)
      ctx.results.set("slow.failed", outcome.failed)
      if (target.spec.kind === "gateway") ctx.results.set("slow.peakMb", after.peakMb)
      const lines = [
        `| streams | held open together | completed | failed | ${who} peak fds | ${who} RSS idle → peak MB | KB per stream | ${who} CPU ms per stream | s to open all | wall s |`,
        "|---|---|---|---|---|---|---|---|---|---|",
        `| ${count} | ${heldTogether} | ${outcome.ok} | ${outcome.failed} | ${peakFds} | ${before.rssMb.toFixed(0)} → ${
          Math.max(peakRss, after.peakMb).toFixed(0)
        } | ${((1024 * (after.peakMb - before.rssMb)) / count).toFixed(0)} | ${((after.cpuMs - before.cpuMs) / count).toFixed(2)} | ${
          openSeconds.toFixed(1)
        } | ${seconds.toFixed(1)} |`
      ]
      if (outcome.failed > 0) {
        const reasons = [...outcome.reasons].sort((a, b) => b[1] - a[1]).slice(0, 5)
        lines.push("", `Failures: ${reasons.map(([why, n]) => `${n} × ${why}`).join("; ")}.`)
        const tail = target.process.stderrTail().trim()
        if (tail.length > 0) lines.push("", `${who} stderr (last lines):`, "", "```", ...tail.split("\n").slice(-10), "```")
      }
      if (capped) {
        lines.push(
          "",
          `**Capped: ${wanted} were asked, ${count} fit.** The ${who}'s open-file limit is ${limit.soft} (hard ${limit.hard}) ` +
            `and it holds two sockets per relayed stream (${idleFds} fds when idle), so it can hold about ${fits}. ` +
            `Raise the hard limit (\`ulimit -Hn\`, as root or in the container's settings) to run ${wanted}; ` +
            `\`BENCH_SLOW_STREAMS=${wanted}\` runs exactly that many anyway.`
        )
      }
      lines.push(
        "",
        "For reference, measured once on this machine with 4,000 streams: the bare relay held each in about 32 KB and " +
          "0.95 ms of CPU (the gateway: 56 KB, 2.7 ms), so 10,000 held streams need over 300 MB even in the relay."
      )
      return lines.join("\n")
    } finally {
      target.process.stop()
    }
  }
}

/**
 * The measurement behind every comparison table: each target's req/s at 64
 * connections (non-streaming and 20-chunk streams) and CPU per request, its
 * latency at a fixed 100 req/s and time to first chunk at 50 streams/s (both
 * relative to the upstream direct), and its peak RSS. Targets run side by
 * side, phase by phase (interleaved, so that a noisy neighbour hurts all rows
 * alike), and are compared with the bare relay measured in the same run.
 * With BENCH_ROUNDS > 1, req/s and CPU per request are the medians of the rounds.
 */
import type { BenchContext } from "./context.js"
import { median, OpenLoop, throughput, type Timings } from "./load.js"
import { pidOf, procStats } from "./processes.js"
import { relay, type RunningTarget, startTarget, type TargetSpec } from "./targets.js"

/** One mode (non-streaming or streaming) of a target under closed-loop load. */
export interface ModeResult {
  readonly rps: number
  /** CPU of the target per request (µs), from /proc. */
  readonly cpuUs: number
  /** How busy the target kept its core (CPU time over wall time, %). */
  readonly busy: number
  readonly errors: number
  /** CPU of the load generator per request (µs). */
  readonly loadCpuUs: number
  /** CPU of the fake upstream per request (µs). */
  readonly upstreamCpuUs: number
}

/** Everything measured of one target. */
export interface Measured {
  readonly spec: TargetSpec
  readonly plain: ModeResult
  readonly stream: ModeResult
  /** Non-streaming requests at a fixed 100 req/s. */
  readonly fixed: Timings
  /** Streams at a fixed 50 per second. */
  readonly streams: Timings
  readonly peakMb: number
}

/** The upstream answering directly: the baseline of the added latencies. */
export interface Direct {
  readonly plainRps: number
  readonly streamRps: number
  readonly fixed: Timings
  readonly streams: Timings
}

/** The fixed rates of the latency phases. */
export const FIXED_RATE = 100
export const STREAM_RATE = 50

const modes = [false, true] as const

/**
 * Measures targets side by side, with the bare relay (measured once per run
 * and reused) and the upstream direct as the baselines.
 */
export const measure = async (
  ctx: BenchContext,
  specs: ReadonlyArray<TargetSpec>
): Promise<{ readonly relay: Measured; readonly direct: Direct; readonly rows: ReadonlyArray<Measured> }> => {
  const { settings } = ctx
  const all = ctx.relay === undefined ? [relay, ...specs] : [...specs]
  const running: Array<RunningTarget> = []
  try {
    for (const spec of all) running.push(await startTarget(spec, ctx.upstreamV1))
    await new Promise((r) => setTimeout(r, 500))

    ctx.log(`warming up ${running.map((t) => t.spec.name).join(", ")}…`)
    for (const target of running) {
      for (const stream of modes) {
        await throughput(target.base, { stream, seconds: settings.warmSeconds, model: target.spec.model, body: target.spec.body })
      }
    }

    const sums = running.map(() =>
      modes.map(() => ({
        rps: [] as Array<number>,
        cpuUs: [] as Array<number>,
        total: 0,
        cpuMs: 0,
        wallMs: 0,
        upstreamMs: 0,
        errors: 0,
        loadCpuUs: 0
      }))
    )
    for (let round = 0; round < settings.rounds; round++) {
      for (const [m, stream] of modes.entries()) {
        for (const [t, target] of running.entries()) {
          ctx.log(`${stream ? "streaming" : "non-streaming"}, 64 connections: ${target.spec.name}…`)
          const before = procStats(target.pid).cpuMs
          const upstreamBefore = procStats(ctx.upstreamPid).cpuMs
          const started = performance.now()
          const result = await throughput(target.base, {
            stream,
            seconds: settings.seconds,
            model: target.spec.model,
            body: target.spec.body
          })
          const sum = sums[t]![m]!
          const cpuMs = procStats(target.pid).cpuMs - before
          sum.wallMs += performance.now() - started
          sum.cpuMs += cpuMs
          sum.upstreamMs += procStats(ctx.upstreamPid).cpuMs - upstreamBefore
          sum.rps.push(result.rps)
          sum.cpuUs.push((cpuMs * 1000) / Math.max(1, result.total))
          sum.total += result.total
          sum.errors += result.errors
          sum.loadCpuUs += result.loadCpuUs / settings.rounds
        }
      }
    }

    // Latency at fixed rates, in one-second slices taken in turn by every target and the upstream
    // direct (the baseline of the added latencies), so that a noisy moment hurts them alike.
    const loops = (base: string, model: string | undefined, body?: Readonly<Record<string, unknown>>) => ({
      fixed: new OpenLoop(base, { rate: FIXED_RATE, stream: false, model, body }),
      streams: new OpenLoop(base, { rate: STREAM_RATE, stream: true, model, body })
    })
    const direct = ctx.direct === undefined ? loops(ctx.upstreamV1, undefined) : undefined
    const targetLoops = running.map((target) => loops(target.base, target.spec.model, target.spec.body))
    const everyone = direct === undefined ? targetLoops : [direct, ...targetLoops]
    ctx.log(`${FIXED_RATE} req/s and ${STREAM_RATE} streams/s, in turns: upstream direct and ${running.map((t) => t.spec.name).join(", ")}…`)
    for (let slice = 0; slice <= settings.fixedSeconds; slice++) {
      for (const loop of everyone) await loop.fixed.run(1)
      for (const loop of everyone) await loop.streams.run(1)
    }
    const timings = targetLoops.map((loop) => ({ fixed: loop.fixed.finish(), streams: loop.streams.finish() }))
    if (direct !== undefined) {
      ctx.log("upstream direct: throughput…")
      const plain = await throughput(ctx.upstreamV1, { stream: false, seconds: settings.seconds })
      const stream = await throughput(ctx.upstreamV1, { stream: true, seconds: settings.seconds })
      ctx.direct = { plainRps: plain.rps, streamRps: stream.rps, fixed: direct.fixed.finish(), streams: direct.streams.finish() }
    }

    const measured = running.map((target, t): Measured => {
      const mode = (m: number): ModeResult => {
        const sum = sums[t]![m]!
        return {
          rps: median(sum.rps),
          cpuUs: median(sum.cpuUs),
          busy: (100 * sum.cpuMs) / Math.max(1, sum.wallMs),
          errors: sum.errors,
          loadCpuUs: sum.loadCpuUs,
          upstreamCpuUs: (sum.upstreamMs * 1000) / Math.max(1, sum.total)
        }
      }
      return {
        spec: target.spec,
        plain: mode(0),
        stream: mode(1),
        fixed: timings[t]!.fixed,
        streams: timings[t]!.streams,
        peakMb: procStats(pidOf(target.process)).peakMb
      }
    })
    if (ctx.relay === undefined) ctx.relay = measured.shift()!
    return { relay: ctx.relay, direct: ctx.direct!, rows: measured }
  } finally {
    for (const target of running) target.process.stop()
  }
}

const fixed = (n: number, digits = 0) => Number.isFinite(n) ? n.toFixed(digits) : "—"
const signed = (n: number, digits = 2) => Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(digits)}` : "—"
const percent = (n: number) => Number.isFinite(n) ? `${n.toFixed(0)}%` : "—"

/** Errors a target had in any phase. */
export const errorsOf = (row: Measured): number =>
  row.plain.errors + row.stream.errors + row.fixed.errors + row.streams.errors

/** The comparison as a markdown table: the relay first, then the rows. */
export const renderTable = (relayRow: Measured, direct: Direct, rows: ReadonlyArray<Measured>): string => {
  const header = [
    "",
    "req/s",
    "share of relay",
    "req/s, stream",
    "share of relay, stream",
    "CPU µs/req",
    "CPU µs/stream",
    "share by CPU",
    `added p50 ms @${FIXED_RATE}/s`,
    `added p99 ms @${FIXED_RATE}/s`,
    `added TTFC p50 ms @${STREAM_RATE}/s`,
    "peak RSS MB",
    "errors"
  ]
  const line = (row: Measured) => [
    row.spec.name,
    fixed(row.plain.rps),
    percent((100 * row.plain.rps) / relayRow.plain.rps),
    fixed(row.stream.rps),
    percent((100 * row.stream.rps) / relayRow.stream.rps),
    fixed(row.plain.cpuUs),
    fixed(row.stream.cpuUs),
    `${percent((100 * relayRow.plain.cpuUs) / row.plain.cpuUs)} / ${percent((100 * relayRow.stream.cpuUs) / row.stream.cpuUs)}`,
    signed(row.fixed.total.p50 - direct.fixed.total.p50),
    signed(row.fixed.total.p99 - direct.fixed.total.p99),
    signed(row.streams.firstChunk.p50 - direct.streams.firstChunk.p50),
    fixed(row.peakMb),
    String(errorsOf(row))
  ]
  return [header, header.map(() => "---"), line(relayRow), ...rows.map(line)]
    .map((cells) => `| ${cells.join(" | ")} |`)
    .join("\n")
}

/** The lines under a table: what the baselines were and what each row ran with. */
export const renderNotes = (relayRow: Measured, direct: Direct, rows: ReadonlyArray<Measured>): string => {
  const notes = [
    `Upstream direct: ${fixed(direct.plainRps)} req/s, ${fixed(direct.streamRps)} streams/s at 64 connections; ` +
    `p50 ${fixed(direct.fixed.total.p50, 2)} ms / p99 ${fixed(direct.fixed.total.p99, 2)} ms at ${FIXED_RATE} req/s; ` +
    `first chunk p50 ${fixed(direct.streams.firstChunk.p50, 2)} ms at ${STREAM_RATE} streams/s.`,
    "Share by CPU: the relay's CPU per request over the row's (non-streaming / streaming): what the req/s share would be " +
    "if both were bound by their core alone; steadier than req/s when other processes share the machine.",
    `During the relay's runs: load generator ${fixed(relayRow.plain.loadCpuUs)} / ${fixed(relayRow.stream.loadCpuUs)} µs CPU per request, ` +
    `fake upstream ${fixed(relayRow.plain.upstreamCpuUs)} / ${fixed(relayRow.stream.upstreamCpuUs)} µs (non-streaming / streaming).`
  ]
  const unbound = [relayRow, ...rows].filter((row) => row.plain.busy < 85 || row.stream.busy < 85)
  if (unbound.length > 0) {
    notes.push(
      `**Not bound by its own core** (CPU time over wall time under load below 85%): ` +
        unbound.map((row) => `${row.spec.name} ${fixed(row.plain.busy)}% / ${fixed(row.stream.busy)}%`).join(", ") +
        ". Its req/s was limited by something else (the load core, or other work on the machine), so the req/s shares " +
        "involving it are not the ratio of the two processes' costs: read the share by CPU."
    )
  }
  for (const row of [relayRow, ...rows]) {
    notes.push(
      `${row.spec.name}: p50 ${fixed(row.fixed.total.p50, 2)} / p99 ${fixed(row.fixed.total.p99, 2)} ms at ${FIXED_RATE} req/s; ` +
        `first chunk p50 ${fixed(row.streams.firstChunk.p50, 2)} / p99 ${fixed(row.streams.firstChunk.p99, 2)} ms` +
        (row.spec.note !== undefined ? `. Runs with: ${row.spec.note}.` : ".")
    )
  }
  return notes.map((note) => `- ${note}`).join("\n")
}

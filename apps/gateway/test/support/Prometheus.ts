/** One sample of the Prometheus text format: a series and its value. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** A parsed exposition: its samples and the `# TYPE` and `# HELP` of each metric family. */
export interface Exposition {
  readonly samples: ReadonlyArray<Sample>
  readonly types: ReadonlyMap<string, string>
  readonly help: ReadonlyMap<string, string>
  /** The value of the series with exactly these labels, if it exists. */
  readonly value: (name: string, labels?: Readonly<Record<string, string>>) => number | undefined
  /** Every series of a metric. */
  readonly series: (name: string) => ReadonlyArray<Sample>
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/

const parseValue = (text: string, line: string): number => {
  if (text === "+Inf") return Infinity
  if (text === "-Inf") return -Infinity
  if (text === "NaN") return NaN
  const value = Number(text)
  if (text.length === 0 || Number.isNaN(value)) throw new Error(`bad sample value in: ${line}`)
  return value
}

const parseSample = (line: string): Sample => {
  const name = NAME.exec(line)?.[0]
  if (name === undefined) throw new Error(`bad metric name in: ${line}`)
  let rest = line.slice(name.length)
  const labels: Record<string, string> = {}
  if (rest.startsWith("{")) {
    rest = rest.slice(1)
    while (!rest.startsWith("}")) {
      const key = LABEL.exec(rest)?.[0]
      if (key === undefined || rest[key.length] !== "=" || rest[key.length + 1] !== "\"") throw new Error(`bad label in: ${line}`)
      rest = rest.slice(key.length + 2)
      let value = ""
      let i = 0
      for (; i < rest.length && rest[i] !== "\""; i++) {
        if (rest[i] === "\\") {
          const next = rest[++i]
          value += next === "n" ? "\n" : next
        } else value += rest[i]
      }
      if (i >= rest.length) throw new Error(`unterminated label value in: ${line}`)
      if (Object.hasOwn(labels, key)) throw new Error(`duplicate label ${key} in: ${line}`)
      labels[key] = value
      rest = rest.slice(i + 1)
      if (rest.startsWith(",")) rest = rest.slice(1)
      else if (!rest.startsWith("}")) throw new Error(`bad label separator in: ${line}`)
    }
    rest = rest.slice(1)
  }
  if (!rest.startsWith(" ")) throw new Error(`no value in: ${line}`)
  const [value, timestamp, ...extra] = rest.trim().split(/\s+/)
  if (extra.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`bad sample in: ${line}`)
  return { name, labels, value: parseValue(value ?? "", line) }
}

const sameLabels = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key])
}

/** Parses the Prometheus text exposition format (0.0.4); throws on a line it cannot read. */
export const parseExposition = (text: string): Exposition => {
  const samples: Array<Sample> = []
  const types = new Map<string, string>()
  const help = new Map<string, string>()
  for (const line of text.split("\n")) {
    if (line.trim().length === 0) continue
    if (line.startsWith("#")) {
      const match = /^# (TYPE|HELP) (\S+) (.*)$/.exec(line)
      if (match?.[1] === "TYPE") types.set(match[2]!, match[3]!)
      else if (match?.[1] === "HELP") help.set(match[2]!, match[3]!)
      continue
    }
    samples.push(parseSample(line))
  }
  return {
    samples,
    types,
    help,
    value: (name, labels = {}) => samples.find((sample) => sample.name === name && sameLabels(sample.labels, labels))?.value,
    series: (name) => samples.filter((sample) => sample.name === name)
  }
}

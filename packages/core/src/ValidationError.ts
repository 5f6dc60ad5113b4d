import { type ParseResult, Schema, SchemaAST } from "effect"
import { optional } from "./internal/fields.js"

/** One validation problem, in FastAPI's (pydantic's) shape. */
export const ValidationError = Schema.Struct({
  loc: Schema.Array(Schema.Union(Schema.String, Schema.Int)),
  msg: Schema.String,
  type: Schema.String,
  input: optional(Schema.Unknown),
  ctx: optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}).annotations({ identifier: "ValidationError", title: "ValidationError" })
export interface ValidationError extends Schema.Schema.Type<typeof ValidationError> {}

/** The body of a 422 response: every problem found in the request. */
export const HTTPValidationError = Schema.Struct({
  detail: Schema.Array(ValidationError)
}).annotations({ identifier: "HTTPValidationError", title: "HTTPValidationError" })
export interface HTTPValidationError extends Schema.Schema.Type<typeof HTTPValidationError> {}

/**
 * An annotation for a custom refinement: the pydantic error `type` (and
 * `ctx`) to report when it fails. The message comes from the filter's issue.
 */
export const PydanticError: unique symbol = Symbol.for("@switchyard/core/PydanticError")

type Loc = ReadonlyArray<string | number>
type Item = { loc: Loc; msg: string; type: string; input?: unknown; ctx?: Record<string, unknown> }

const item = (loc: Loc, type: string, msg: string, input: unknown, ctx?: Record<string, unknown>): Item =>
  ctx === undefined ? { loc, msg, type, input } : { loc, msg, type, input, ctx }

const quote = (value: unknown) => typeof value === "string" ? `'${value}'` : String(value)

const orList = (parts: ReadonlyArray<string>): string =>
  parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1]}`

const literalsOf = (ast: SchemaAST.AST): Array<SchemaAST.LiteralValue> | undefined => {
  if (SchemaAST.isLiteral(ast)) return [ast.literal]
  if (SchemaAST.isUnion(ast)) {
    const out: Array<SchemaAST.LiteralValue> = []
    for (const member of ast.types) {
      const literals = literalsOf(member)
      if (literals === undefined) return undefined
      out.push(...literals)
    }
    return out
  }
  return undefined
}

const stripRefinements = (ast: SchemaAST.AST): SchemaAST.AST => {
  let current = ast
  while (SchemaAST.isRefinement(current)) current = current.from
  return current
}

const isIntRefinement = (ast: SchemaAST.AST): boolean =>
  SchemaAST.isRefinement(ast) && ast.annotations[SchemaAST.SchemaIdAnnotationId] === Schema.IntSchemaId

const hasIntRefinement = (ast: SchemaAST.AST): boolean => {
  let current = ast
  while (SchemaAST.isRefinement(current)) {
    if (isIntRefinement(current)) return true
    current = current.from
  }
  return false
}

/** A pydantic error type and phrase for a value that is not of the expected kind. */
const describeExpected = (ast: SchemaAST.AST): { type: string; msg: string; ctx?: Record<string, unknown> } => {
  const literals = literalsOf(ast)
  if (literals !== undefined) {
    const expected = orList(literals.map(quote))
    return { type: "literal_error", msg: `Input should be ${expected}`, ctx: { expected } }
  }
  if (hasIntRefinement(ast)) return { type: "int_type", msg: "Input should be a valid integer" }
  const base = stripRefinements(ast)
  switch (base._tag) {
    case "StringKeyword":
      return { type: "string_type", msg: "Input should be a valid string" }
    case "NumberKeyword":
      return { type: "float_type", msg: "Input should be a valid number" }
    case "BooleanKeyword":
      return { type: "bool_type", msg: "Input should be a valid boolean" }
    case "TupleType":
      return { type: "list_type", msg: "Input should be a valid list" }
    case "TypeLiteral":
      return { type: "dict_type", msg: "Input should be a valid dictionary" }
    case "Transformation":
      return describeExpected(SchemaAST.encodedAST(base))
    case "Union": {
      const members = base.types.map(describeExpected)
      const first = members[0]
      const phrases = members.map((m) => m.msg.replace(/^Input should be /, ""))
      return { type: first?.type ?? "union_type", msg: `Input should be ${orList([...new Set(phrases)])}` }
    }
    default:
      return { type: "value_error", msg: "Input is not valid" }
  }
}

const lengthOf = (input: unknown): number =>
  Array.isArray(input) || typeof input === "string"
    ? input.length
    : typeof input === "object" && input !== null
    ? Object.keys(input).length
    : 0

/** A pydantic error for a value that failed a refinement (a bound, a length, a pattern). */
const describeRefinement = (ast: SchemaAST.Refinement, input: unknown, fallback: string): Omit<Item, "loc"> => {
  const custom = ast.annotations[PydanticError] as { type: string; ctx?: Record<string, unknown> } | undefined
  if (custom !== undefined) return item([], custom.type, fallback, input, custom.ctx)
  const message = ast.annotations[SchemaAST.MessageAnnotationId]
  if (typeof message === "function") {
    const text = (message as (issue: unknown) => unknown)(undefined)
    const msg = typeof text === "string" ? text : fallback
    return { type: "value_error", msg, input }
  }
  const json = (ast.annotations[SchemaAST.JSONSchemaAnnotationId] ?? {}) as Record<string, unknown>
  const n = typeof input === "number" ? input : NaN
  if (typeof json.maximum === "number" && n > json.maximum) {
    return item([], "less_than_equal", `Input should be less than or equal to ${json.maximum}`, input, { le: json.maximum })
  }
  if (typeof json.minimum === "number" && n < json.minimum) {
    return item([], "greater_than_equal", `Input should be greater than or equal to ${json.minimum}`, input, {
      ge: json.minimum
    })
  }
  if (typeof json.exclusiveMaximum === "number" && n >= json.exclusiveMaximum) {
    return item([], "less_than", `Input should be less than ${json.exclusiveMaximum}`, input, {
      lt: json.exclusiveMaximum
    })
  }
  if (typeof json.exclusiveMinimum === "number" && n <= json.exclusiveMinimum) {
    return item([], "greater_than", `Input should be greater than ${json.exclusiveMinimum}`, input, {
      gt: json.exclusiveMinimum
    })
  }
  if (json.type === "integer") {
    return item([], "int_from_float", "Input should be a valid integer, got a number with a fractional part", input)
  }
  const actual = lengthOf(input)
  if (typeof json.maxItems === "number") {
    return item([], "too_long", `List should have at most ${json.maxItems} items after validation, not ${actual}`, input, {
      field_type: "List",
      max_length: json.maxItems,
      actual_length: actual
    })
  }
  if (typeof json.minItems === "number") {
    return item([], "too_short", `List should have at least ${json.minItems} items after validation, not ${actual}`, input, {
      field_type: "List",
      min_length: json.minItems,
      actual_length: actual
    })
  }
  if (typeof json.maxProperties === "number") {
    return item(
      [],
      "too_long",
      `Dictionary should have at most ${json.maxProperties} items after validation, not ${actual}`,
      input,
      { field_type: "Dictionary", max_length: json.maxProperties, actual_length: actual }
    )
  }
  if (typeof json.maxLength === "number") {
    return item([], "string_too_long", `String should have at most ${json.maxLength} characters`, input, {
      max_length: json.maxLength
    })
  }
  if (typeof json.minLength === "number") {
    return item([], "string_too_short", `String should have at least ${json.minLength} characters`, input, {
      min_length: json.minLength
    })
  }
  if (typeof json.pattern === "string") {
    return item([], "string_pattern_mismatch", `String should match pattern '${json.pattern}'`, input, {
      pattern: json.pattern
    })
  }
  return { type: "value_error", msg: fallback, input }
}

/** Whether an issue says only "this value is of the wrong kind" (not a deeper problem). */
const isShallow = (issue: ParseResult.ParseIssue): boolean =>
  issue._tag === "Type" ||
  (issue._tag === "Refinement" && issue.kind === "From" && isShallow(issue.issue)) ||
  (issue._tag === "Transformation" && issue.kind === "Encoded" && isShallow(issue.issue)) ||
  // A nested union (`Literal("none", "auto")` inside a union with structs) whose members all failed shallowly.
  (issue._tag === "Composite" && SchemaAST.isUnion(issue.ast) &&
    (Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]).every(isShallow))

const walk = (issue: ParseResult.ParseIssue, loc: Loc, out: Array<Item>): void => {
  switch (issue._tag) {
    case "Pointer": {
      const path = Array.isArray(issue.path) ? issue.path : [issue.path]
      const next = [...loc, ...path.map((key) => typeof key === "symbol" ? String(key) : key as string | number)]
      if (issue.issue._tag === "Missing") {
        out.push(item(next, "missing", "Field required", issue.actual))
      } else {
        walk(issue.issue, next, out)
      }
      return
    }
    case "Composite": {
      const issues = Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]
      if (SchemaAST.isUnion(issue.ast)) {
        const deep = issues.filter((i) => !isShallow(i))
        if (deep.length === 0) {
          const expected = describeExpected(issue.ast)
          out.push(item(loc, expected.type, expected.msg, issue.actual, expected.ctx))
          return
        }
        for (const i of deep) walk(i, loc, out)
        return
      }
      for (const i of issues) walk(i, loc, out)
      return
    }
    case "Refinement": {
      if (issue.kind === "From") {
        if (isIntRefinement(issue.ast) && isShallow(issue.issue)) {
          out.push(item(loc, "int_type", "Input should be a valid integer", issue.actual))
          return
        }
        walk(issue.issue, loc, out)
        return
      }
      if (issue.issue._tag === "Pointer" || issue.issue._tag === "Composite") {
        walk(issue.issue, loc, out)
        return
      }
      const described = describeRefinement(issue.ast, issue.actual, issue.issue._tag === "Type" ? issue.issue.message ?? "Value error" : "Value error")
      out.push({ ...described, loc })
      return
    }
    case "Transformation":
      walk(issue.issue, loc, out)
      return
    case "Type": {
      if (SchemaAST.isRefinement(issue.ast)) {
        // A failing dictionary key is reported at [..., key, "[key]"] with the key as input, as pydantic does.
        const input = loc[loc.length - 1] === "[key]" ? loc[loc.length - 2] : issue.actual
        const described = describeRefinement(issue.ast, input, issue.message ?? "Value error")
        out.push({ ...described, loc })
        return
      }
      const expected = describeExpected(issue.ast)
      out.push(item(loc, expected.type, expected.msg, issue.actual, expected.ctx))
      return
    }
    case "Missing":
      out.push(item(loc, "missing", "Field required", undefined))
      return
    case "Unexpected":
      out.push(item(loc, "extra_forbidden", "Extra inputs are not permitted", issue.actual))
      return
    case "Forbidden":
      out.push(item(loc, "value_error", issue.message ?? "Value is not allowed", issue.actual))
      return
  }
}

/**
 * Every problem of a Schema parse failure, as FastAPI reports them: `loc`
 * starts at `root` ("body"), with pydantic's `type`, a readable `msg`, the
 * offending `input`, and `ctx` where a bound applies.
 */
export const fromParseIssue = (issue: ParseResult.ParseIssue, root: string = "body"): HTTPValidationError => {
  const out: Array<Item> = []
  walk(issue, [root], out)
  return { detail: out }
}

/** The 422 detail for a body that is not JSON: the position of the error and the parser's complaint. */
export const jsonInvalid = (error: unknown, text: string): HTTPValidationError => {
  const message = error instanceof Error ? error.message : String(error)
  const match = /position (\d+)/.exec(message)
  const position = match ? Number(match[1]) : text.length === 0 ? 0 : text.length
  return {
    detail: [
      item(["body", position], "json_invalid", "JSON decode error", {}, {
        error: text.trim().length === 0 ? "Expecting value" : message
      })
    ]
  }
}

/** Where a problem is, as `messages.0.role` (without the root), cut to 256 characters. */
export const locText = (loc: ReadonlyArray<string | number>): string => {
  const text = loc.slice(1).join(".")
  return text.length > 256 ? text.slice(0, 256) + truncatedMarker(text.length - 256) : text
}

/** A short sentence summarising a validation failure, for logs and the OpenAI error envelope. */
export const summarize = (error: HTTPValidationError): string => {
  const first = error.detail[0]
  if (first === undefined) return "Invalid request"
  if (first.type === "json_invalid") return `The request body is not valid JSON (${String(first.ctx?.error ?? "")}).`
  const where = locText(first.loc)
  const more = error.detail.length > 1 ? ` (and ${error.detail.length - 1} more problem${error.detail.length > 2 ? "s" : ""})` : ""
  return `${where ? `${where}: ` : ""}${first.msg}${more}`
}

/** The longest string a 422 echoes back in `input`; longer ones are cut and marked. */
export const MAX_ECHOED_STRING = 1024

/** The most `detail` entries a 422 body carries. */
export const MAX_DETAIL_ENTRIES = 50

/** The budget for all `detail` entries of a 422 body, serialized (the whole body stays under 64 KiB). */
export const MAX_DETAIL_BYTES = 48 * 1024

const MAX_ECHOED_ITEMS = 20
const MAX_ECHOED_DEPTH = 32
const MAX_ENTRY_BYTES = 4 * 1024

/** The marker that ends a string cut for a 422: `…[truncated 12345 chars]`. */
export const truncatedMarker = (dropped: number): string => `…[truncated ${dropped} chars]`

const TOO_DEEP: unique symbol = Symbol("TooDeep")

/** A copy of an input small enough to echo: strings cut, long arrays and objects shortened; TOO_DEEP past the depth limit. */
const boundInput = (value: unknown, depth: number): unknown => {
  if (typeof value === "string") {
    return value.length > MAX_ECHOED_STRING
      ? value.slice(0, MAX_ECHOED_STRING) + truncatedMarker(value.length - MAX_ECHOED_STRING)
      : value
  }
  if (typeof value !== "object" || value === null) return value
  if (depth >= MAX_ECHOED_DEPTH) return TOO_DEEP
  if (Array.isArray(value)) {
    const out: Array<unknown> = []
    for (let i = 0; i < Math.min(value.length, MAX_ECHOED_ITEMS); i++) {
      const item = boundInput(value[i], depth + 1)
      if (item === TOO_DEEP) return TOO_DEEP
      out.push(item)
    }
    if (value.length > MAX_ECHOED_ITEMS) out.push(`…[${value.length - MAX_ECHOED_ITEMS} more items]`)
    return out
  }
  const out: Record<string, unknown> = {}
  const keys = Object.keys(value)
  for (const key of keys.slice(0, MAX_ECHOED_ITEMS)) {
    const item = boundInput((value as Record<string, unknown>)[key], depth + 1)
    if (item === TOO_DEEP) return TOO_DEEP
    Object.defineProperty(out, boundInput(key, depth) as string, { value: item, enumerable: true, writable: true, configurable: true })
  }
  if (keys.length > MAX_ECHOED_ITEMS) out["…"] = `[${keys.length - MAX_ECHOED_ITEMS} more keys]`
  return out
}

/** The length of a string in UTF-8, without encoding it. */
const utf8Length = (text: string): number => {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 0x800) bytes += 2
    else if (code >= 0x80) bytes += 1
  }
  return bytes
}

/**
 * The `detail` of a 422 as it is sent, bounded whatever was received:
 * - strings inside `input` (and `loc`, `ctx`) longer than {@link MAX_ECHOED_STRING} are cut
 *   and end with {@link truncatedMarker}; arrays and objects keep their first 20 items; an
 *   `input` nested deeper than 32 levels, or still over 4 KiB once cut, is left out;
 * - at most {@link MAX_DETAIL_ENTRIES} entries are kept, and entries stop once their
 *   serialized size would pass {@link MAX_DETAIL_BYTES} (UTF-8); the envelope's message still
 *   counts every problem.
 * So a 422 body stays under 64 KiB for any request.
 */
export const boundedDetail = (detail: ReadonlyArray<ValidationError>): Array<ValidationError> => {
  const out: Array<ValidationError> = []
  let bytes = 0
  for (const entry of detail) {
    if (out.length >= MAX_DETAIL_ENTRIES) break
    const loc = entry.loc.slice(0, MAX_ECHOED_DEPTH).map((part) => boundInput(part, 0) as string | number)
    let bounded: ValidationError = { loc, msg: entry.msg, type: entry.type }
    if (entry.ctx !== undefined) {
      const ctx = boundInput(entry.ctx, 1)
      if (ctx !== TOO_DEEP) bounded = { ...bounded, ctx: ctx as Record<string, unknown> }
    }
    let size = utf8Length(JSON.stringify(bounded))
    if ("input" in entry) {
      const input = boundInput(entry.input, 0)
      if (input !== TOO_DEEP) {
        const withInput = { loc: bounded.loc, msg: bounded.msg, type: bounded.type, input, ...(bounded.ctx !== undefined ? { ctx: bounded.ctx } : {}) }
        const withSize = utf8Length(JSON.stringify(withInput))
        if (withSize <= MAX_ENTRY_BYTES) {
          bounded = withInput
          size = withSize
        }
      }
    }
    if (bytes + size + 1 > MAX_DETAIL_BYTES) break
    bytes += size + 1
    out.push(bounded)
  }
  return out
}

import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"
import { request, startGateway } from "./support/Harness.js"

const TIMEOUT = 20_000

/** The committed copy of the spec in `core`, else the shared one beside the repository. */
const specFile = [
  fileURLToPath(new URL("../../../packages/core/test/fixtures/chat-completions.openapi.yaml", import.meta.url)),
  fileURLToPath(new URL("../../../../shared/spec/chat-completions.openapi.yaml", import.meta.url))
].find((file) => existsSync(file))

interface JsonSchema {
  readonly [keyword: string]: unknown
  readonly $ref?: string
  readonly type?: string | ReadonlyArray<string>
  readonly properties?: Readonly<Record<string, JsonSchema>>
  readonly required?: ReadonlyArray<string>
  readonly items?: JsonSchema
  readonly anyOf?: ReadonlyArray<JsonSchema>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly allOf?: ReadonlyArray<JsonSchema>
  readonly enum?: ReadonlyArray<unknown>
  readonly additionalProperties?: unknown
}

interface Document {
  readonly paths: Readonly<Record<string, Readonly<Record<string, { readonly responses: Readonly<Record<string, unknown>> }>>>>
  readonly components: { readonly schemas: Readonly<Record<string, JsonSchema>> }
}

const deref = (doc: Document, schema: JsonSchema | undefined): JsonSchema | undefined => {
  let current = schema
  for (let i = 0; current?.$ref !== undefined && i < 20; i++) current = doc.components.schemas[current.$ref.split("/").pop()!]
  return current
}

/** The JSON types a schema admits ("any" when it says nothing). */
const typesOf = (doc: Document, schema: JsonSchema | undefined): Set<string> => {
  const s = deref(doc, schema)
  if (s === undefined) return new Set(["any"])
  const union = s.anyOf ?? s.oneOf ?? s.allOf
  if (union !== undefined) return new Set(union.flatMap((member) => [...typesOf(doc, member)]))
  if (s.type !== undefined) return new Set(typeof s.type === "string" ? [s.type] : s.type)
  if (s.enum !== undefined) return new Set(s.enum.map((v) => v === null ? "null" : typeof v))
  if ("const" in s) return new Set([s.const === null ? "null" : typeof s.const])
  if (s.properties !== undefined) return new Set(["object"])
  return new Set(["any"])
}

/** The element schema of an array-typed schema, if it has one. */
const itemsOf = (doc: Document, schema: JsonSchema | undefined): JsonSchema | undefined => {
  const s = deref(doc, schema)
  if (s === undefined) return undefined
  if (s.items !== undefined) return s.items
  for (const member of s.anyOf ?? s.oneOf ?? []) {
    const items = itemsOf(doc, member)
    if (items !== undefined) return items
  }
  return undefined
}

/**
 * Where our types may differ from the spec's, and why. Every other
 * difference (besides an extra `null`) is a failure.
 */
const typeExceptions: Readonly<Record<string, string>> = {
  // OpenAI's API also accepts the strings "none" and "auto" here; the spec lists only the object form.
  "ChatCompletionRequest.function_call": "string"
}

/** Where we require more than the spec: FastAPI always sends `detail`; its generator just does not mark it. */
const requiredOnlyByUs: Readonly<Record<string, ReadonlyArray<string>>> = { HTTPValidationError: ["detail"] }

/** A problem list: empty when our type admits what the spec's does, and no more than an extra `null`. */
const compareTypes = (spec: Document, ours: Document, where: string, specSchema: JsonSchema, ourSchema: JsonSchema) => {
  const problems: Array<string> = []
  const specTypes = typesOf(spec, specSchema)
  const ourTypes = typesOf(ours, ourSchema)
  if (!specTypes.has("any") && !ourTypes.has("any")) {
    const allowed = new Set([...specTypes, "null", ...(typeExceptions[where] !== undefined ? [typeExceptions[where]!] : [])])
    for (const type of specTypes) if (!ourTypes.has(type)) problems.push(`${where}: spec allows ${type}, ours does not`)
    for (const type of ourTypes) if (!allowed.has(type)) problems.push(`${where}: ours allows ${type}, the spec does not`)
  }
  if (specTypes.has("array") && ourTypes.has("array")) {
    const specItems = itemsOf(spec, specSchema)
    const ourItems = itemsOf(ours, ourSchema)
    if (specItems !== undefined && ourItems !== undefined) {
      problems.push(...compareTypes(spec, ours, `${where}[]`, specItems, ourItems))
    }
  }
  return problems
}

const fetchDocument = Effect.gen(function*() {
  const gateway = yield* startGateway({ gateway: { apiKeys: ["k"] } })
  const response = yield* Effect.promise(() => request(`${gateway.url}/openapi.json`))
  expect(response.status).toBe(200)
  expect(response.headers["content-type"]).toBe("application/json")
  return JSON.parse(response.text) as Document
})

const loadSpec = (): Document => parse(readFileSync(specFile!, "utf8")) as Document

/** The 422 response schema of the completion endpoint (a reference to HTTPValidationError). */
const validationResponse = (doc: Document): JsonSchema => {
  const response = doc.paths["/v5/chat/completions"]?.post?.responses["422"] as
    | { content: Record<string, { schema: JsonSchema }> }
    | undefined
  return deref(doc, response?.content["application/json"]?.schema)!
}

/** Our schema for a spec component: the component of the same name. */
const ourComponent = (ours: Document, name: string): JsonSchema | undefined => ours.components.schemas[name]

describe("GET /openapi.json against the spec", () => {
  it("has a spec file to compare with", () => {
    expect(specFile).toBeDefined()
  })

  it.scopedLive("has every spec component, with every property, the same required ones and compatible types", () =>
    Effect.gen(function*() {
      const ours = yield* fetchDocument
      const spec = loadSpec()
      const names = Object.keys(spec.components.schemas)
      expect(names).toEqual(expect.arrayContaining([
        "ChatCompletionRequest",
        "ChatCompletion",
        "ChatCompletionChunk",
        "CompletionUsage",
        "HTTPValidationError",
        "ValidationError"
      ]))
      const problems: Array<string> = []
      for (const name of names) {
        const specComponent = spec.components.schemas[name]!
        const our = ourComponent(ours, name)
        if (our === undefined) {
          problems.push(`${name}: no such component`)
          continue
        }
        const specRequired = [...(specComponent.required ?? []), ...(requiredOnlyByUs[name] ?? [])].sort()
        const ourRequired = [...(our.required ?? [])].sort()
        if (JSON.stringify(specRequired) !== JSON.stringify(ourRequired)) {
          problems.push(`${name}: required ${JSON.stringify(ourRequired)}, the spec ${JSON.stringify(specRequired)}`)
        }
        for (const [property, specProperty] of Object.entries(specComponent.properties ?? {})) {
          const ourProperty = our.properties?.[property]
          if (ourProperty === undefined) {
            problems.push(`${name}.${property}: missing`)
            continue
          }
          problems.push(...compareTypes(spec, ours, `${name}.${property}`, specProperty, ourProperty))
        }
      }
      expect(problems).toEqual([])
    }), TIMEOUT)

  it.scopedLive("lets objects carry additional properties wherever the spec does", () =>
    Effect.gen(function*() {
      const ours = yield* fetchDocument
      const spec = loadSpec()
      const strict = Object.keys(spec.components.schemas).filter((name) =>
        spec.components.schemas[name]!.additionalProperties !== false &&
        ourComponent(ours, name)?.additionalProperties === false
      )
      expect(strict).toEqual([])
    }), TIMEOUT)

  it.scopedLive("documents the completion, models and health routes, the 422 and the event stream", () =>
    Effect.gen(function*() {
      const ours = yield* fetchDocument
      expect(Object.keys(ours.paths)).toEqual(
        expect.arrayContaining(["/v5/chat/completions", "/v1/chat/completions", "/v5/models", "/v1/models", "/health", "/ready"])
      )
      const post = ours.paths["/v5/chat/completions"]!.post! as unknown as {
        requestBody: { content: Record<string, { schema: JsonSchema }> }
        responses: Record<string, { content: Record<string, unknown> }>
      }
      expect(post.requestBody.content["application/json"]?.schema.$ref).toBe("#/components/schemas/ChatCompletionRequest")
      expect(Object.keys(post.responses["200"]!.content)).toEqual(expect.arrayContaining(["application/json", "text/event-stream"]))
      expect(validationResponse(ours).properties?.detail).toBeDefined()
    }), TIMEOUT)

  // HttpApi inlines error schemas; core's openApiDocument names the 422 body `HTTPValidationError`, as the spec does.
  it.scopedLive("has HTTPValidationError as a named component, as the spec does", () =>
    Effect.gen(function*() {
      const ours = yield* fetchDocument
      expect(Object.keys(ours.components.schemas)).toContain("HTTPValidationError")
    }), TIMEOUT)

  it.scopedLive("declares the spec's security scheme under its name (APIKeyHeader: x-api-key), and bearer beside it", () =>
    Effect.gen(function*() {
      const ours = yield* fetchDocument
      const schemes = (ours.components as unknown as { securitySchemes: Record<string, unknown> }).securitySchemes
      const spec = loadSpec() as unknown as { components: { securitySchemes: Record<string, unknown> } }
      expect(schemes["APIKeyHeader"]).toEqual(spec.components.securitySchemes["APIKeyHeader"])
      expect(schemes["BearerAuth"]).toMatchObject({ type: "http", scheme: "bearer" })
      const post = ours.paths["/v5/chat/completions"]!.post! as unknown as { security: ReadonlyArray<Record<string, unknown>> }
      expect(post.security).toEqual(expect.arrayContaining([{ APIKeyHeader: [] }]))
    }), TIMEOUT)
})

describe("GET /docs", () => {
  it.scopedLive("is an HTML page whose scripts and styles are all inlined (works offline)", () =>
    Effect.gen(function*() {
      const gateway = yield* startGateway()
      const response = yield* Effect.promise(() => request(`${gateway.url}/docs`))
      expect(response.status).toBe(200)
      expect(response.headers["content-type"]).toMatch(/^text\/html/)
      const html = response.text
      expect(html).toMatch(/^<!doctype html>/i)
      expect(html).toContain("<script")
      expect(html).toContain("/v5/chat/completions")
      const scriptSources = [...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1])
      expect(scriptSources).toEqual([])
      const linked = [...html.matchAll(/<link\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1])
      expect(linked.filter((href) => /^(https?:)?\/\//i.test(href ?? ""))).toEqual([])
      expect(html).not.toMatch(/@import\s+url\(\s*["']?(https?:)?\/\//i)
    }), TIMEOUT)
})

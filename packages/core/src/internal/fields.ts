import { Schema } from "effect"

/**
 * An optional field that may also be `null`. In requests `null` means absent,
 * as in OpenAI's API and pydantic models (`"temperature": null`) and in
 * OpenAI's own types (`temperature?: number | null`); in responses it is what
 * OpenAI sends (`"finish_reason": null`, `"content": null`). The `null` is kept
 * rather than transformed away: a transformation per field would double the
 * cost of decoding a request. Read such fields with `!= null` / `??`.
 */
export const nullable = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(Schema.NullOr(schema), { exact: true })

/** Optional, never `null`. */
export const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** Parse options that keep unknown keys, for objects the spec marks `additionalProperties: true`. */
export const keepUnknownKeys = { parseOptions: { onExcessProperty: "preserve" } } as const

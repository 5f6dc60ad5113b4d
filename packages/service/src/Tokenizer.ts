/**
 * GPT-4o's tokenizer (o200k_base), loaded on first use: the echo vendor's
 * counts and the limits' prompt estimates. `gpt-tokenizer` is an optional
 * peer of this package; without it, tokens are counted approximately.
 */
import { type GatewayError, InternalError } from "@switchyard/core"
import { Effect } from "effect"

/** Counts tokens, and splits text into the pieces of its tokens. */
export interface Tokenizer {
  readonly count: (text: string) => number
  readonly split: (text: string) => Array<string>
}

/** What the echo vendor needs of `gpt-tokenizer/encoding/o200k_base`. */
export interface O200kModule {
  readonly encode: (text: string, options: { readonly disallowedSpecial: Set<string> }) => Array<number>
  readonly decodeGenerator: (tokens: Iterable<number>) => Generator<string, void, undefined>
}

const APPROXIMATE = / ?[\p{L}\p{M}]+| ?\p{N}{1,3}| ?[^\s\p{L}\p{M}\p{N}]+|\s+/gu

/**
 * Words, numbers and punctuation runs as tokens, roughly as GPT's pre-tokenizer
 * splits text: the echo vendor's count when `gpt-tokenizer` is not installed.
 */
export const approximateTokenizer: Tokenizer = {
  count: (text) => text.match(APPROXIMATE)?.length ?? 0,
  split: (text) => text.match(APPROXIMATE) ?? []
}

const isMissingModule = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "code" in error &&
  (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND")

/**
 * The o200k_base tokenizer (GPT-4o's), loaded once, on first use: it takes
 * ~0.5 s to load. `gpt-tokenizer` is an optional peer of this package: without
 * it, tokens are counted approximately (and a warning says so once).
 */
export const loadTokenizer = (
  load: () => Promise<O200kModule> = () => import("gpt-tokenizer/encoding/o200k_base")
): Effect.Effect<Tokenizer, GatewayError> =>
  Effect.tryPromise(load).pipe(
    Effect.map((o200k): Tokenizer => {
      const noSpecial = { disallowedSpecial: new Set<string>() }
      return {
        count: (text) => o200k.encode(text, noSpecial).length,
        split: (text) => [...o200k.decodeGenerator(o200k.encode(text, noSpecial))]
      }
    }),
    Effect.catchAll(({ error }) =>
      isMissingModule(error)
        ? Effect.as(
          Effect.logWarning(
            "gpt-tokenizer is not installed, so token counts are approximate (npm install gpt-tokenizer for GPT-4o's)"
          ),
          approximateTokenizer
        )
        : Effect.fail(new InternalError({ message: `could not load the tokenizer: ${String(error)}` }))
    )
  )


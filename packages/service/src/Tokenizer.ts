/** GPT-4o's tokenizer (o200k_base), loaded on first use: the echo vendor's counts and the limits' prompt estimates. */
import { InternalError } from "@switchyard/core"
import { Effect } from "effect"

/** Text to tokens and back. */
export interface Tokenizer {
  readonly encode: (text: string) => Array<number>
  readonly count: (text: string) => number
  readonly pieces: (tokens: ReadonlyArray<number>) => Array<string>
}

/** The o200k_base tokenizer (GPT-4o's), loaded each time it is run: cache it (`Effect.cached`); it takes ~0.5 s to load. */
export const loadTokenizer: Effect.Effect<Tokenizer, InternalError> = Effect.tryPromise({
  try: async () => {
    const o200k = await import("gpt-tokenizer/encoding/o200k_base")
    const noSpecial = { disallowedSpecial: new Set<string>() }
    return {
      encode: (text: string) => o200k.encode(text, noSpecial),
      count: (text: string) => o200k.countTokens(text, noSpecial),
      pieces: (tokens: ReadonlyArray<number>) => [...o200k.decodeGenerator(tokens)]
    }
  },
  catch: (error) => new InternalError({ message: `could not load the tokenizer: ${String(error)}` })
})

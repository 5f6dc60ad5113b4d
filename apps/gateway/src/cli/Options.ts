import * as Options from "@effect/cli/Options"
import { Config } from "effect"

/** `--config` (or `SWITCHYARD_CONFIG`): the configuration file. */
export const configFile = Options.file("config", { exists: "yes" }).pipe(
  Options.withFallbackConfig(Config.nonEmptyString("SWITCHYARD_CONFIG")),
  Options.withDescription("A configuration file (JSON or YAML): vendors, aliases, retry policy, server settings"),
  Options.optional
)

/** `--base-url`: a running gateway (or SGP deployment) to talk to instead of running in-process. */
export const baseUrl = Options.text("base-url").pipe(
  Options.withFallbackConfig(
    Config.nonEmptyString("SWITCHYARD_BASE_URL").pipe(Config.orElse(() => Config.nonEmptyString("SGP_CLIENT_BASE_URL")))
  ),
  Options.withDescription("Talk to a running gateway (or an SGP deployment) at this URL instead of running in-process"),
  Options.optional
)

/** `--api-key`: the gateway's key, with `--base-url`. */
export const apiKey = Options.redacted("api-key").pipe(
  Options.withFallbackConfig(
    Config.redacted(Config.nonEmptyString("SWITCHYARD_API_KEY").pipe(Config.orElse(() => Config.nonEmptyString("SGP_API_KEY"))))
  ),
  Options.withDescription("The gateway's API key (with --base-url)"),
  Options.optional
)

/** `--account`: sent as `x-selected-account-id`. */
export const account = Options.text("account").pipe(
  Options.withFallbackConfig(Config.nonEmptyString("SGP_ACCOUNT_ID")),
  Options.withDescription("The account to act for (sent as x-selected-account-id)"),
  Options.optional
)

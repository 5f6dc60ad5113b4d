import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { ResourceNotFound, SwitchyardApi } from "@switchyard/core"
import { Effect } from "effect"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"

/** One file of the built app, with its precompressed variants. */
interface Asset {
  readonly contentType: string
  readonly raw: Uint8Array
  readonly gzip: Uint8Array | undefined
  readonly brotli: Uint8Array | undefined
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json"
}

/** Scripts and styles come from the gateway only; images in conversations may be anywhere. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data: blob: https: http:; style-src 'self' 'unsafe-inline'; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/** Where the built app is: `SWITCHYARD_DASHBOARD_DIR`, else `@switchyard/dashboard`'s `dist`. */
export const dashboardDir = (): string | undefined => {
  const configured = process.env.SWITCHYARD_DASHBOARD_DIR
  if (configured !== undefined && configured !== "") return configured
  try {
    return Path.join(Path.dirname(createRequire(import.meta.url).resolve("@switchyard/dashboard/package.json")), "dist")
  } catch {
    return undefined
  }
}

const readIfExists = (file: string): Uint8Array | undefined => {
  try {
    return Fs.readFileSync(file)
  } catch {
    return undefined
  }
}

/** The built app's files by name (`index.html`, `assets/<name>`), read once. */
export const loadAssets = (dir: string | undefined): ReadonlyMap<string, Asset> => {
  const assets = new Map<string, Asset>()
  if (dir === undefined) return assets
  const add = (name: string) => {
    const raw = readIfExists(Path.join(dir, name))
    if (raw === undefined) return
    assets.set(name, {
      contentType: CONTENT_TYPES[Path.extname(name)] ?? "application/octet-stream",
      raw,
      gzip: readIfExists(Path.join(dir, `${name}.gz`)),
      brotli: readIfExists(Path.join(dir, `${name}.br`))
    })
  }
  add("index.html")
  let files: Array<string> = []
  try {
    files = Fs.readdirSync(Path.join(dir, "assets"))
  } catch {
    // No assets: the page answers 404 below.
  }
  for (const file of files) if (!file.endsWith(".gz") && !file.endsWith(".br")) add(`assets/${file}`)
  return assets
}

/** An asset in the best encoding the client accepts. */
const respond = (asset: Asset, cacheControl: string) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const accepted = String(request.headers["accept-encoding"] ?? "")
    const [body, encoding] = asset.brotli !== undefined && /\bbr\b/.test(accepted)
      ? [asset.brotli, "br"]
      : asset.gzip !== undefined && /\bgzip\b/.test(accepted)
      ? [asset.gzip, "gzip"]
      : [asset.raw, undefined]
    return HttpServerResponse.uint8Array(body, {
      contentType: asset.contentType,
      headers: {
        "cache-control": cacheControl,
        vary: "accept-encoding",
        "x-content-type-options": "nosniff",
        "content-security-policy": CONTENT_SECURITY_POLICY,
        ...(encoding === undefined ? {} : { "content-encoding": encoding })
      }
    })
  })

/**
 * `GET /dashboard` and its assets, from the app built at install time
 * (precompressed with brotli and gzip; hashed asset names are cached for good).
 */
export const DashboardPageHttpLive = HttpApiBuilder.group(SwitchyardApi, "dashboardPage", (handlers) =>
  Effect.gen(function*() {
    const assets = loadAssets(dashboardDir())
    const missing = (what: string) =>
      new ResourceNotFound({
        message: assets.size === 0
          ? "The dashboard is not built: run `npm run build` (or set SWITCHYARD_DASHBOARD_DIR)."
          : `No dashboard asset \`${what}\`.`,
        code: "not_found"
      })
    return handlers
      .handle("page", () => {
        const page = assets.get("index.html")
        return page === undefined ? Effect.fail(missing("index.html")) : respond(page, "no-cache")
      })
      .handle("asset", ({ path }) => {
        const asset = assets.get(`assets/${path.file}`)
        return asset === undefined
          ? Effect.fail(missing(path.file))
          : respond(asset, "public, max-age=31536000, immutable")
      })
  }))

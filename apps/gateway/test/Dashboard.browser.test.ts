/**
 * The dashboard end to end: the built `switchyard serve` on SQLite with a fake
 * OpenAI vendor (node:http), driven in Debian's Chromium by playwright-core.
 * Screenshots of every page land in `.artifacts/dashboard/` (git-ignored).
 */
import { FakeUpstream } from "@switchyard/service/testing"
import { Effect, Exit, Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isBuilt, type ServeProcess, startServe } from "./support/Bin.js"

const CHROMIUM = "/usr/bin/chromium"
const hasChromium = Fs.existsSync(CHROMIUM)
const inCi = process.env.CI === "true"
const dashboardBuilt = Fs.existsSync(fileURLToPath(new URL("../../dashboard/dist/index.html", import.meta.url)))
if (!hasChromium && !inCi) {
  console.warn(`Skipping the dashboard browser test: ${CHROMIUM} is missing (apt-get install -y chromium).`)
}
if (!isBuilt || !dashboardBuilt) {
  console.warn("Skipping the dashboard browser test: build first (npm run build builds the gateway and the dashboard).")
}

const ARTIFACTS = fileURLToPath(new URL("../../../.artifacts/dashboard/", import.meta.url))
const TIMEOUT = 120_000

const MEMBER_A = "member-a-key"
const MEMBER_B = "member-b-key"
const ADMIN = "admin-key"
const PROMPT_TOKENS = 11
const COMPLETION_TOKENS = 7

/** A fake OpenAI: answers with a tool call when tools are offered, else with text; fixed usage. */
const vendor = () =>
  FakeUpstream.start((request, response) => {
    const body = request.json as { model: string; tools?: ReadonlyArray<unknown>; messages: ReadonlyArray<{ content: unknown }> }
    const last = body.messages[body.messages.length - 1]
    const message = body.tools !== undefined
      ? {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_weather_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Paris\"}" } }]
      }
      : { role: "assistant", content: `You said: ${typeof last?.content === "string" ? last.content : "parts"}` }
    response.writeHead(200, { "content-type": "application/json" })
    response.end(JSON.stringify({
      id: "chatcmpl-upstream",
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, finish_reason: body.tools !== undefined ? "tool_calls" : "stop", message }],
      usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: COMPLETION_TOKENS, total_tokens: PROMPT_TOKENS + COMPLETION_TOKENS }
    }))
  })

/** A 1×1 PNG, as a data URL: an image in a message. */
const PIXEL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

describe.skipIf((!hasChromium && !inCi) || !isBuilt || !dashboardBuilt)("dashboard in a browser", () => {
  let scope: Scope.CloseableScope
  let upstream: FakeUpstream.FakeUpstream
  let serve: ServeProcess
  let browser: Browser
  const consoleErrors: Array<string> = []
  const contexts: Array<BrowserContext> = []

  const complete = async (key: string, body: Record<string, unknown>) => {
    const response = await fetch(`${serve.url}/v5/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai/gpt-4o-mini", ...body })
    })
    expect(response.status).toBe(200)
    return (await response.json()) as { id: string }
  }

  const api = (key: string, path: string) => fetch(`${serve.url}${path}`, { headers: { authorization: `Bearer ${key}` } })

  /** Waits until the store has written what was sent (rows gather for 50 ms before a batch). */
  const storedCount = async (key: string, expected: number) => {
    for (let i = 0; i < 100; i++) {
      const page = (await (await api(key, "/v5/dashboard/completions?limit=100")).json()) as { data: Array<unknown> }
      if (page.data.length === expected) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`never saw ${expected} stored completions`)
  }

  const newPage = async (options: { readonly viewport?: { width: number; height: number }; readonly colorScheme?: "light" | "dark" } = {}) => {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      colorScheme: options.colorScheme ?? "light",
      acceptDownloads: true
    })
    contexts.push(context)
    const page = await context.newPage()
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`)
    })
    page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`))
    return page
  }

  const signIn = async (page: Page, key: string) => {
    await page.goto(`${serve.url}/dashboard`)
    await page.getByLabel("Gateway key").fill(key)
    await page.keyboard.press("Enter")
    await page.getByRole("heading", { name: "Completions" }).waitFor()
  }

  const rows = (page: Page) => page.locator("table[aria-label='Stored completions'] tbody tr")
  const row = (page: Page, id: string) => page.locator(`table[aria-label='Stored completions'] tbody tr[data-id='${id}']`)

  const shoot = (page: Page, name: string) => page.screenshot({ path: Path.join(ARTIFACTS, `${name}.png`), fullPage: true })

  const ids: Record<string, string> = {}

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`CI=true but ${CHROMIUM} is missing: install it (apt-get install -y chromium).`)
    Fs.mkdirSync(ARTIFACTS, { recursive: true })
    scope = Effect.runSync(Scope.make())
    upstream = await vendor()
    serve = await Effect.runPromise(Scope.extend(
      startServe(["--port", "0"], {
        OPENAI_BASE_URL: upstream.baseUrl,
        OPENAI_API_KEY: "sk-vendor",
        SWITCHYARD_API_KEYS: `${MEMBER_A}:team-a,${MEMBER_B}:team-b`,
        SWITCHYARD_ADMIN_KEYS: ADMIN
      }),
      scope
    ))
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] })

    ids.tools = (await complete(MEMBER_A, {
      store: true,
      metadata: { user: "ada", env: "prod" },
      messages: [{ role: "system", content: "You are terse." }, { role: "user", content: "Weather in Paris?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }]
    })).id
    ids.dev = (await complete(MEMBER_A, { store: true, metadata: { user: "ada", env: "dev" }, messages: [{ role: "user", content: "dev question" }] })).id
    ids.otherModel = (await complete(MEMBER_A, {
      model: "openai/gpt-4o",
      store: true,
      metadata: { user: "ada", env: "prod" },
      messages: [{ role: "user", content: "bigger model" }]
    })).id
    ids.image = (await complete(MEMBER_A, {
      store: true,
      metadata: { user: "bob", env: "prod" },
      messages: [
        { role: "user", content: [{ type: "text", text: "What is in this picture?" }, { type: "image_url", image_url: { url: PIXEL } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_look", type: "function", function: { name: "look", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_look", content: "a single pixel" }
      ]
    })).id
    ids.teamB = (await complete(MEMBER_B, { store: true, metadata: { user: "ada", env: "prod" }, messages: [{ role: "user", content: "team b only" }] })).id
    // Not stored: counted in usage only.
    await complete(MEMBER_A, { messages: [{ role: "user", content: "not stored" }] })
    await storedCount(ADMIN, 5)
  }, TIMEOUT)

  afterAll(async () => {
    for (const context of contexts) await context.close()
    await browser?.close()
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    await upstream?.close()
  })

  it("a member signs in and sees its own stored completions, never another account's", async () => {
    const page = await newPage()
    await signIn(page, MEMBER_A)
    await expect.poll(() => rows(page).count()).toBe(4)
    const text = await page.locator("table[aria-label='Stored completions']").innerText()
    expect(text).toContain("team-a")
    expect(text).not.toContain("team-b")
    await shoot(page, "completions")
    // Nor through the API: another account's filter is refused, its id is missing.
    expect((await api(MEMBER_A, "/v5/dashboard/completions?account=team-b")).status).toBe(403)
    expect((await api(MEMBER_A, `/v5/dashboard/completions/${ids.teamB}`)).status).toBe(404)
  }, TIMEOUT)

  it("filters by two metadata pairs and a model, kept in the URL across a reload", async () => {
    const page = await newPage()
    await signIn(page, MEMBER_A)
    await expect.poll(() => rows(page).count()).toBe(4)
    const pair = page.getByLabel("Metadata key=value")
    await pair.fill("user=ada")
    await pair.press("Enter")
    await expect.poll(() => rows(page).count()).toBe(3)
    await pair.fill("env=prod")
    await pair.press("Enter")
    await expect.poll(() => rows(page).count()).toBe(2)
    await page.getByLabel("Model").fill("openai/gpt-4o-mini")
    await page.getByLabel("Model").press("Enter")
    await expect.poll(() => rows(page).count()).toBe(1)
    expect(await rows(page).first().getAttribute("data-id")).toBe(ids.tools)
    const url = page.url()
    expect(decodeURIComponent(url)).toContain("metadata=user=ada")
    expect(decodeURIComponent(url)).toContain("metadata=env=prod")
    await page.reload()
    await expect.poll(() => rows(page).count()).toBe(1)
    await shoot(page, "completions-filtered")
  }, TIMEOUT)

  it("opens a detail with the conversation, tool calls and an image thumbnail; no request per row", async () => {
    const page = await newPage()
    const requested: Array<string> = []
    page.on("request", (request) => {
      if (request.url().includes("/v5/")) requested.push(new URL(request.url()).pathname)
    })
    await signIn(page, MEMBER_A)
    await expect.poll(() => rows(page).count()).toBe(4)
    // The list loads with one query, whatever the number of rows.
    expect(requested.filter((path) => path.startsWith("/v5/dashboard/completions/"))).toEqual([])
    expect(requested.filter((path) => path === "/v5/dashboard/completions")).toHaveLength(1)

    await page.locator(`tr[data-id='${ids.tools}'] a`).click()
    await page.getByRole("heading", { name: "Conversation" }).waitFor()
    const toolCall = page.locator(".tool-call").first()
    await expect.poll(() => toolCall.innerText()).toContain("get_weather")
    expect(await toolCall.innerText()).toContain("\"city\": \"Paris\"")
    expect(await page.locator(".conversation").innerText()).toContain("You are terse.")
    await shoot(page, "detail")

    await page.goto(`${serve.url}/dashboard#/completions/${ids.image}`)
    await page.locator("img.thumb").waitFor()
    expect(await page.locator("img.thumb").getAttribute("src")).toBe(PIXEL)
    expect(await page.locator(".role-tool").innerText()).toContain("a single pixel")
    expect(await page.locator(".tool-call").first().innerText()).toContain("look")
    await shoot(page, "detail-image")
  }, TIMEOUT)

  it("edits metadata and the filter result follows; deletes a completion", async () => {
    const page = await newPage()
    await signIn(page, MEMBER_A)
    await page.goto(`${serve.url}/dashboard#/completions/${ids.tools}`)
    await page.getByLabel("Metadata value 2").waitFor()
    expect(await page.getByLabel("Metadata key 2").inputValue()).toBe("env")
    await page.getByLabel("Metadata value 2").fill("staging")
    await page.getByRole("button", { name: "Save metadata" }).click()
    await page.getByRole("status").filter({ hasText: "Saved" }).waitFor()

    await page.goto(`${serve.url}/dashboard#/completions?metadata=user%3Dada&metadata=env%3Dprod`)
    await expect.poll(() => row(page, ids.tools!).count()).toBe(0)
    await expect.poll(() => rows(page).count()).toBe(1)
    await page.goto(`${serve.url}/dashboard#/completions?metadata=env%3Dstaging`)
    await expect.poll(() => row(page, ids.tools!).count()).toBe(1)
    expect(await rows(page).count()).toBe(1)

    await page.goto(`${serve.url}/dashboard#/completions/${ids.dev}`)
    await page.getByRole("button", { name: "Delete", exact: true }).click()
    await page.getByRole("button", { name: "Delete permanently" }).click()
    await page.getByRole("heading", { name: "Completions" }).waitFor()
    await expect.poll(() => rows(page).count()).toBe(3)
    expect(await row(page, ids.dev!).count()).toBe(0)
    expect((await api(MEMBER_A, `/v5/dashboard/completions/${ids.dev}`)).status).toBe(404)
  }, TIMEOUT)

  it("live tail shows a new completion by polling the one list query; export honours the filters", async () => {
    const page = await newPage()
    await signIn(page, MEMBER_A)
    await expect.poll(() => rows(page).count()).toBe(3)
    const polled: Array<string> = []
    page.on("request", (request) => {
      if (request.url().includes("/v5/")) polled.push(new URL(request.url()).pathname)
    })
    await page.getByLabel("Live tail").check()
    ids.tail = (await complete(MEMBER_A, { store: true, metadata: { user: "cy", env: "prod" }, messages: [{ role: "user", content: "tail me" }] })).id
    await expect.poll(() => row(page, ids.tail!).count(), { timeout: 15_000 }).toBe(1)
    expect(polled.every((path) => path === "/v5/dashboard/completions")).toBe(true)
    await page.getByLabel("Live tail").uncheck()

    await page.goto(`${serve.url}/dashboard#/completions?metadata=env%3Dprod`)
    await expect.poll(() => rows(page).count()).toBe(3)
    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()])
    const text = Fs.readFileSync((await csv.path())!, "utf8")
    const lines = text.trim().split("\r\n")
    expect(lines[0]).toMatch(/^id,created_at,account_id/)
    expect(lines).toHaveLength(4)
    const [jsonl] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export JSONL" }).click()])
    const records = Fs.readFileSync((await jsonl.path())!, "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(records).toHaveLength(3)
    expect(records.every((r: { metadata: { env: string }; request: { messages: Array<unknown> } }) =>
      r.metadata.env === "prod" && r.request.messages.length > 0
    )).toBe(true)
  }, TIMEOUT)

  it("usage charts render with the expected totals in their labels and data table", async () => {
    const page = await newPage()
    await signIn(page, MEMBER_A)
    await page.getByRole("link", { name: "Usage" }).click()
    const table = page.locator("table[aria-label='Usage by model']")
    await table.waitFor()
    // team-a: four stored, one tailed, one not stored (usage counts every completion, deletes included).
    const requests = 6
    expect(await table.locator("[data-total='requests']").innerText()).toBe(String(requests))
    expect(await table.locator("[data-total='prompt_tokens']").innerText()).toBe(String(requests * PROMPT_TOKENS))
    expect(await table.locator("[data-total='completion_tokens']").innerText()).toBe(String(requests * COMPLETION_TOKENS))
    const charts = page.locator("figure.chart")
    expect(await charts.count()).toBe(4)
    expect(await charts.first().getAttribute("aria-label")).toBe(`Requests by model: total ${requests}`)
    expect(await charts.nth(1).getAttribute("aria-label")).toBe(`Tokens by model: total ${requests * (PROMPT_TOKENS + COMPLETION_TOKENS)}`)
    expect(await page.locator("figure.chart canvas").count()).toBe(4)
    expect(await table.locator("tbody tr").count()).toBe(2)
    await shoot(page, "usage")
  }, TIMEOUT)

  it("an admin sees every account, creates a key (secret shown once) and revokes it", async () => {
    const page = await newPage()
    await signIn(page, ADMIN)
    await expect.poll(() => rows(page).count()).toBe(5)
    expect(await page.locator("table[aria-label='Stored completions']").innerText()).toContain("team-b")

    await page.getByRole("link", { name: "Keys" }).click()
    await page.getByLabel("Name").fill("ci-bot")
    await page.getByLabel("Accounts (comma-separated)").fill("team-c")
    await page.getByRole("button", { name: "Create key" }).click()
    const secret = await page.getByLabel("Secret").inputValue()
    expect(secret).toMatch(/^sk-sy-[0-9A-Za-z]{32,}$/)
    const keyRow = page.locator("table[aria-label='API keys'] tbody tr").filter({ hasText: "ci-bot" })
    await keyRow.waitFor()
    expect(await keyRow.innerText()).toContain("team-c")
    expect(await keyRow.innerText()).not.toContain(secret)
    await shoot(page, "keys")
    // The key works (the gateway's key cache refreshes within a few seconds)...
    await expect.poll(async () => (await api(secret, "/v5/me")).status, { timeout: 15_000 }).toBe(200)
    await page.getByRole("button", { name: "Done" }).click()
    expect(await page.getByLabel("Secret").count()).toBe(0)

    await keyRow.getByRole("button", { name: "Revoke ci-bot" }).click()
    await keyRow.getByRole("button", { name: "Confirm revoke" }).click()
    await expect.poll(() => keyRow.count()).toBe(0)
    // ...until revoked.
    await expect.poll(async () => (await api(secret, "/v5/me")).status, { timeout: 15_000 }).toBe(401)
  }, TIMEOUT)

  it("is readable at phone width and in dark mode, and the keyboard reaches the rows", async () => {
    const phone = await newPage({ viewport: { width: 390, height: 844 } })
    await signIn(phone, MEMBER_A)
    await expect.poll(() => rows(phone).count()).toBe(4)
    const overflow = await phone.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth")
    expect(overflow).toBeLessThanOrEqual(0)
    await shoot(phone, "completions-phone")

    const dark = await newPage({ colorScheme: "dark" })
    await signIn(dark, MEMBER_A)
    await expect.poll(() => rows(dark).count()).toBe(4)
    const background = await dark.evaluate<string>("getComputedStyle(document.body).backgroundColor")
    expect(background).toBe("rgb(13, 17, 23)")
    await shoot(dark, "completions-dark")
    await dark.getByRole("link", { name: "Usage" }).click()
    await dark.locator("table[aria-label='Usage by model']").waitFor()
    await shoot(dark, "usage-dark")

    // Tab from the top of the page reaches a row's link, and Enter opens it.
    await dark.goto(`${serve.url}/dashboard#/completions`)
    await expect.poll(() => rows(dark).count()).toBe(4)
    let focused = ""
    for (let i = 0; i < 40 && !focused.includes("/completions/"); i++) {
      await dark.keyboard.press("Tab")
      focused = await dark.evaluate<string>("document.activeElement?.getAttribute('href') ?? ''")
    }
    expect(focused).toContain("#/completions/")
    await dark.keyboard.press("Enter")
    await dark.getByRole("heading", { name: "Conversation" }).waitFor()
  }, TIMEOUT)

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([])
  })
})

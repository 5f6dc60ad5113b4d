#!/usr/bin/env node
// The library as its users get it. Packs every workspace package (through its
// prepack, as `npm publish` does), checks each tarball's contents and manifest
// and `npm publish --dry-run`, then installs the tarballs into a fresh project
// outside the repository, with the LOWEST Effect versions the peer ranges claim
// (from the npm cache when it has them), and core and service alone into a second
// one at their own lower floor (there: their README blocks, type-checked and run).
// In the first:
//   - type-checks (strict) a small program, a small
//     @effect/vitest test, every TypeScript block of the READMEs and examples/;
//   - type-checks the packages' .d.ts (skipLibCheck off), and their imports under
//     `moduleResolution: node10` (the top-level `types`, `typesVersions`);
//   - runs the program, the runnable README blocks and examples, and the tests;
//   - measures the install size of each package with what it pulls in.
// Run by `npm test` (after `tsc -b` has built dist/). `--keep` keeps the temp dir.
import { execFile, execFileSync, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { extractBlocks } from "./doc-blocks.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const keep = process.argv.includes("--keep")
const started = Date.now()
const work = mkdtempSync(path.join(tmpdir(), "switchyard-consumer-"))
const step = (text) => process.stdout.write(`[consumer ${((Date.now() - started) / 1000).toFixed(0)}s] ${text}\n`)
const failures = []
const check = (ok, message) => {
  if (!ok) failures.push(message)
}
const run = (command, args, options = {}) => {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20, ...options })
  } catch (error) {
    process.stderr.write(`\n$ ${command} ${args.join(" ")}  (in ${options.cwd ?? process.cwd()})\n${error.stdout ?? ""}${error.stderr ?? ""}\n`)
    throw new Error(`consumer test: \`${command} ${args.join(" ")}\` failed`)
  }
}

const PACKAGES = ["packages/core", "packages/service", "packages/store", "apps/gateway"]
const manifests = Object.fromEntries(PACKAGES.map((dir) => [dir, JSON.parse(readFileSync(path.join(root, dir, "package.json"), "utf8"))]))

// ---------------------------------------------------------------------------
// 1. Pack each package from a copy (the repository's package.json is never touched)

const stage = path.join(work, "stage")
const tarballs = path.join(work, "tarballs")
mkdirSync(tarballs, { recursive: true })
mkdirSync(path.join(stage, "scripts"), { recursive: true })
cpSync(path.join(root, "scripts/pack-manifest.mjs"), path.join(stage, "scripts/pack-manifest.mjs"))

const ALLOWED = /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts)|bin\/[\w.-]+\.js)$/
const FORBIDDEN = /(\.tsbuildinfo|\.map|^src\/|^test\/|\.test\.|^dist\/bundle\/)/
const packed = {}
for (const dir of PACKAGES) {
  const from = path.join(root, dir)
  const to = path.join(stage, dir)
  mkdirSync(to, { recursive: true })
  for (const entry of ["package.json", "README.md", "LICENSE", "dist", "bin"]) {
    if (existsSync(path.join(from, entry))) cpSync(path.join(from, entry), path.join(to, entry), { recursive: true })
  }
  const manifest = manifests[dir]
  step(`pack ${manifest.name}`)
  const [result] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", tarballs], { cwd: to }))
  const files = result.files.map((file) => file.path)
  packed[manifest.name] = { file: path.join(tarballs, result.filename), files, size: result.size, unpackedSize: result.unpackedSize }
  for (const file of files) {
    check(ALLOWED.test(file) && !FORBIDDEN.test(file), `${manifest.name}: the tarball ships ${file}`)
  }
  for (const required of ["package.json", "README.md", "LICENSE", manifest.main.slice(2), manifest.types.slice(2)]) {
    check(files.includes(required), `${manifest.name}: the tarball lacks ${required}`)
  }
  const shipped = JSON.parse(run("tar", ["-xzOf", packed[manifest.name].file, "package/package.json"]))
  check(!JSON.stringify(shipped.exports).includes("@switchyard/source"), `${manifest.name}: the shipped exports keep the @switchyard/source condition`)
  for (const [subpath, target] of Object.entries(shipped.exports)) {
    for (const [condition, file] of Object.entries(target)) {
      check(files.includes(file.slice(2)), `${manifest.name}: exports["${subpath}"].${condition} names ${file}, not in the tarball`)
    }
  }
  check(shipped.publishConfig?.access === "public", `${manifest.name}: publishConfig.access is not "public"`)
  check(shipped.license === "MIT", `${manifest.name}: license is not MIT`)
  check(typeof shipped.repository?.url === "string", `${manifest.name}: no repository`)
  check(shipped.dependencies?.effect === undefined && shipped.peerDependencies?.effect !== undefined, `${manifest.name}: effect is not a peer dependency`)
  check(readFileSync(path.join(to, "package.json"), "utf8") === readFileSync(path.join(from, "package.json"), "utf8"), `${manifest.name}: postpack did not restore package.json`)
  const publish = spawnSync("npm", ["publish", "--dry-run", "--offline", "--json"], { cwd: to, encoding: "utf8" })
  check(publish.status === 0, `${manifest.name}: npm publish --dry-run failed:\n${publish.stderr}`)
  check(JSON.parse(publish.stdout.slice(publish.stdout.indexOf("{")))[manifest.name]?.filename === result.filename, `${manifest.name}: npm publish --dry-run did not report the tarball`)
  // Clean: no warning but the dry run's own "requires you to be logged in".
  const warnings = publish.stderr.split("\n").filter((line) => /npm (warn|error)/i.test(line) && !/requires you to be logged in/.test(line))
  check(warnings.length === 0, `${manifest.name}: npm publish --dry-run warns:\n${warnings.join("\n")}`)
}

// ---------------------------------------------------------------------------
// 2. Fresh projects: the tarballs, and the lowest Effect the peer ranges allow

/** The lowest version a peer range allows: `^x.y.z` or `>=x.y.z <a.b.c`, the forms the manifests use. */
const lowest = (range) => {
  const match = /^(?:\^|>=)(\d+\.\d+\.\d+)(?: <\d+\.\d+\.\d+)?$/.exec(range)
  if (match === null) throw new Error(`consumer test: peer range ${range} is not ^x.y.z or >=x.y.z <a.b.c`)
  return match[1]
}
/** The lowest versions of the (non-optional) peers that every one of these packages accepts. */
const floorsOf = (dirs) => {
  const peers = {}
  for (const dir of dirs) {
    const manifest = manifests[dir]
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (manifest.peerDependenciesMeta?.[name]?.optional) continue
      const version = lowest(range)
      // Several packages may claim a range for the same peer: together they need the highest floor.
      if (peers[name] === undefined || version.localeCompare(peers[name], undefined, { numeric: true }) > 0) peers[name] = version
    }
  }
  return peers
}
/** A fresh project with these packages' tarballs and their lowest peers, installed; checks one effect. */
const install = (project, dirs, devDependencies) => {
  const peers = floorsOf(dirs)
  mkdirSync(project, { recursive: true })
  writeFileSync(path.join(project, "package.json"), JSON.stringify({
    name: `switchyard-${path.basename(project)}`,
    private: true,
    type: "module",
    dependencies: {
      ...Object.fromEntries(dirs.map((dir) => [manifests[dir].name, `file:${path.relative(project, packed[manifests[dir].name].file)}`])),
      ...peers
    },
    devDependencies
  }, null, 2))
  step(`npm install ${dirs.map((dir) => manifests[dir].name).join(" ")} (${Object.entries(peers).map(([name, version]) => `${name}@${version}`).join(", ")})`)
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: project })
  for (const [name, version] of Object.entries(peers)) {
    const installed = JSON.parse(readFileSync(path.join(project, "node_modules", name, "package.json"), "utf8")).version
    check(installed === version, `${name}: ${installed} installed, not the floor ${version}`)
  }
  const effectCopies = run("npm", ["ls", "effect", "--all", "--parseable"], { cwd: project }).trim().split("\n")
  check(effectCopies.length === 1, `more than one copy of effect installed:\n${effectCopies.join("\n")}`)
  return peers
}
const rootDev = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).devDependencies
const app = path.join(work, "app")
const peers = install(app, PACKAGES, {
  "@effect/vitest": rootDev["@effect/vitest"],
  "@types/node": rootDev["@types/node"],
  openai: manifests["apps/gateway"].devDependencies.openai,
  typescript: rootDev.typescript,
  vitest: rootDev.vitest
})
// The libraries alone claim a lower floor than the gateway: a second project checks them there.
const LIBRARIES = ["packages/core", "packages/service"]
const library = path.join(work, "library")
install(library, LIBRARIES, { "@types/node": rootDev["@types/node"], typescript: rootDev.typescript })

// ---------------------------------------------------------------------------
// 3. What a user writes: a program, a test, the READMEs' blocks, the examples

cpSync(path.join(root, "scripts/consumer"), app, { recursive: true })
const runnable = ["src/program.js"]
const docs = path.join(app, "docs")
mkdirSync(docs, { recursive: true })
mkdirSync(path.join(library, "docs"), { recursive: true })
const libraryRunnable = []
/** A block that needs only the libraries (and Effect, and node): checked at the libraries' own floor too. */
const librariesOnly = (code) =>
  [...code.matchAll(/from "([^"]+)"/g)].every(([, from]) => /^(@switchyard\/(core|service)(\/.*)?|effect(\/.*)?|node:.*)$/.test(from))
const readmes = ["README.md", ...PACKAGES.map((dir) => `${dir}/README.md`), "examples/README.md"].filter((file) => existsSync(path.join(root, file)))
let blockCount = 0
for (const readme of readmes) {
  for (const block of extractBlocks(readFileSync(path.join(root, readme), "utf8"))) {
    const name = `${readme.replace(/\/?README\.md$/, "").replace(/\//g, "-") || "root"}-line${block.line}`
    const file = block.mode === "test" ? `${name}.test.ts` : `${name}.ts`
    writeFileSync(path.join(docs, file), `// ${readme}, line ${block.line}\n${block.code}`)
    if (block.mode === "run") runnable.push(`docs/${name}.js`)
    if (block.mode !== "test" && librariesOnly(block.code)) {
      writeFileSync(path.join(library, "docs", file), `// ${readme}, line ${block.line}\n${block.code}`)
      if (block.mode === "run") libraryRunnable.push(`docs/${name}.js`)
    }
    blockCount++
  }
}
const examples = path.join(root, "examples")
mkdirSync(path.join(app, "examples"), { recursive: true })
for (const file of readdirSync(examples).filter((file) => file.endsWith(".ts"))) {
  cpSync(path.join(examples, file), path.join(app, "examples", file))
  if (!file.endsWith(".test.ts")) runnable.push(`examples/${file.replace(/\.ts$/, ".js")}`)
}
step(`tsc: the program, the tests, ${blockCount} README blocks, the examples`)
run("npx", ["tsc", "-p", "tsconfig.json"], { cwd: app })
step(`tsc: ${libraryRunnable.length} README blocks with core and service alone, at their floor (skipLibCheck off)`)
const libraryTsconfig = JSON.parse(readFileSync(path.join(app, "tsconfig.json"), "utf8"))
writeFileSync(path.join(library, "tsconfig.json"), JSON.stringify({
  compilerOptions: { ...libraryTsconfig.compilerOptions, skipLibCheck: false },
  include: ["docs"]
}, null, 2))
run("npx", ["tsc", "-p", "tsconfig.json"], { cwd: library })
// No vendor keys from the caller's environment: the runnable blocks must not reach a real vendor.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_API_KEY$|_BASE_URL$|^SWITCHYARD_/.test(name)))
const runAsync = (label, command, args, timeout, cwd = app) =>
  new Promise((resolve, reject) =>
    execFile(command, args, { cwd, env, timeout, encoding: "utf8", maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error === null) {
        step(`ok: ${label}`)
        return resolve(stdout)
      }
      process.stderr.write(`\n$ ${command} ${args.join(" ")}\n${stdout}${stderr}\n`)
      reject(new Error(`consumer test: ${label} failed`))
    }))
// Two at a time: the type-checks of the .d.ts, the programs, the bin and the tests are independent.
const jobs = [
  ["tsc: the packages' .d.ts with skipLibCheck off", "npx", ["tsc", "-p", "tsconfig.libcheck.json"], 300_000],
  ["tsc: the imports under moduleResolution node10", "npx", ["tsc", "-p", "tsconfig.node10.json"], 300_000],
  ["vitest run", "npx", ["vitest", "run", "--root", "."], 300_000],
  ["switchyard --version (the installed bin, without the repository's bundle)", "npx", ["--no-install", "switchyard", "--version"], 60_000],
  ...runnable.map((file) => [`node ${file}`, "node", [path.join("out", file)], 60_000]),
  // Without gpt-tokenizer (an optional peer): the echo vendor counts approximately.
  ...libraryRunnable.map((file) => [`node ${file} (core and service alone)`, "node", [path.join("out", file)], 60_000, library])
]
const outputs = {}
const worker = async () => {
  for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) outputs[job[0]] = await runAsync(...job)
}
await Promise.all([worker(), worker()])
check(/\d+\.\d+\.\d+/.test(outputs[Object.keys(outputs).find((label) => label.startsWith("switchyard"))] ?? ""), "switchyard --version printed no version")

// ---------------------------------------------------------------------------
// 4. Install sizes: each package with everything it pulls in (dependencies and peers)

const modules = path.join(app, "node_modules")
const sizeOf = (dir) => Number(run("du", ["-sk", dir]).split("\t")[0]) * 1024
/** Where node finds `name` from a package directory: the nearest node_modules up the tree. */
const resolve = (name, from) => {
  for (let dir = from; dir.startsWith(app); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name)
    if (existsSync(path.join(candidate, "package.json"))) return candidate
  }
  return undefined
}
/** Every package directory a package needs at run time: itself, its dependencies and peers, recursively. */
const closure = (dir, seen = new Set()) => {
  if (dir === undefined || seen.has(dir)) return seen
  seen.add(dir)
  const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"))
  for (const dep of [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]) {
    if (manifest.peerDependenciesMeta?.[dep]?.optional) continue
    closure(resolve(dep, dir), seen)
  }
  return seen
}
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const sizes = {}
for (const name of Object.keys(packed)) {
  const dirs = [...closure(path.join(modules, name))]
  // Nested node_modules are counted within their parents: count only the outermost directories.
  const outer = dirs.filter((dir) => !dirs.some((other) => other !== dir && dir.startsWith(other + path.sep)))
  sizes[name] = { own: sizeOf(path.join(modules, name)), total: outer.reduce((sum, dir) => sum + sizeOf(dir), 0), packages: dirs.length }
}
const optional = existsSync(path.join(modules, "gpt-tokenizer")) ? sizeOf(path.join(modules, "gpt-tokenizer")) : 0
process.stdout.write("\nInstall size (du -sk of node_modules, with every dependency and peer; lowest peers):\n")
for (const [name, size] of Object.entries(sizes)) {
  process.stdout.write(`  ${name.padEnd(22)} package ${mb(size.own).padStart(8)}   installed with its dependencies ${mb(size.total).padStart(9)} (${size.packages} packages)   tarball ${(packed[name].size / 1024).toFixed(0)} kB\n`)
}
process.stdout.write(`  gpt-tokenizer (optional peer of @switchyard/service, a dependency of the gateway): ${mb(optional)}\n`)
writeFileSync(path.join(work, "sizes.json"), JSON.stringify({ sizes, optional, peers }, null, 2))

if (!keep) rmSync(work, { recursive: true, force: true })
else step(`kept ${work}`)
if (failures.length > 0) {
  process.stderr.write(`\nconsumer test: ${failures.length} problem(s):\n${failures.map((f) => `  - ${f}`).join("\n")}\n`)
  process.exit(1)
}
step(`passed in ${((Date.now() - started) / 1000).toFixed(0)} s`)

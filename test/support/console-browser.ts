import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { cliEntry, freePort, REPO } from './processes.js'

/** Debian's chromium (PALISADE_CHROMIUM overrides), driven headless by playwright-core. */
export const CHROMIUM = process.env['PALISADE_CHROMIUM'] ?? '/usr/bin/chromium'
/** The skip reason of a console browser test on a machine without chromium. */
export const CHROMIUM_SKIP = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install Debian's chromium package (apt-get install chromium) to run the console tests`
/** `npm run console:screenshots` sets it: the tests then write docs/console/*.png. */
export const SCREENSHOTS = process.env['PALISADE_CONSOLE_SCREENSHOTS'] === '1'
export const CONSOLE_DIR = path.join(REPO, 'dist', 'console')
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface ServerProcess {
  readonly apiUrl: string
  stop(): Promise<void>
  output(): string
}

/**
 * `palisade serve` as test/support/processes.ts starts it (the build when it is up to date: `cliEntry`), waiting
 * up to two minutes for /v1/health: on a loaded machine a tsx compile of the whole server takes longer than 20 s.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, [...cliEntry(), 'serve', '--api-listen', `127.0.0.1:${port}`], {
    cwd: REPO,
    env: {
      PATH: process.env['PATH'] ?? '',
      PALISADE_LOG_LEVEL: 'warn',
      PALISADE_RUNTIME_PINNING: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const apiUrl = `http://127.0.0.1:${port}`
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${output}`)
    try {
      if ((await fetch(`${apiUrl}/v1/health`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`server did not start: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { apiUrl, stop, output: () => output }
}

/** A fresh headless chromium profile; `defer` receives what removes it. */
export async function launchContext(
  name: string,
  defer: (fn: () => Promise<void> | void) => void,
): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(tmpdir(), `palisade-chromium-${name}-`))
  defer(() => rmSync(profile, { recursive: true, force: true }))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  })
  defer(() => context.close())
  return context
}

/** axe-core in the page (evaluated through the DevTools protocol: the page's CSP still allows no inline script). */
export async function assertAccessible(p: Page, what: string): Promise<void> {
  const source = readFileSync(path.join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8')
  await p.evaluate(source)
  // A string: the test program has no DOM types; this runs in the page.
  const violations = (await p.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))`,
  )) as Array<{ id: string; impact: string; nodes: number }>
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(bad, [], `axe-core: serious or critical violations on ${what}`)
}

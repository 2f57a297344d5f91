import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { REPO, spawnServer, type ServerProcess } from './processes.js'

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

export type { ServerProcess } from './processes.js'

/** `palisade serve` for the console tests, outside any one test's hooks (they share it). */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  return spawnServer(env)
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

/**
 * bench/startup: time from launching `palisade serve` (compiled dist/, as `npm start` runs it) to the first
 * 200 from GET /v1/health, on a fresh data directory and again on the same one (a restart). Median of N.
 * Run: npm run build && node --import tsx bench/startup/run.ts [--runs 7]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '../../test/support/processes.js'
import { spawnServe } from '../support/serve.js'

const args = process.argv.slice(2)
const runsArg = args.indexOf('--runs')
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 7

async function startOnce(dataDir: string): Promise<number> {
  const port = await freePort()
  const started = performance.now()
  const child = spawnServe(port, { PALISADE_DATA_DIR: dataDir }, ['ignore', 'ignore', 'inherit'])
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/health`)
        if (res.status === 200) return performance.now() - started
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 30_000) throw new Error('no health answer within 30 s')
      await new Promise((r) => setTimeout(r, 5))
    }
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const fresh: number[] = []
const again: number[] = []
for (let i = 0; i < RUNS; i++) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'palisade-startup-'))
  fresh.push(await startOnce(dataDir))
  again.push(await startOnce(dataDir))
  rmSync(dataDir, { recursive: true, force: true })
}
console.log(`launch → first 200 from /v1/health, ${RUNS} runs (median, min–max)\n`)
console.log('| data directory | median (ms) | range (ms) |\n|---|---:|---:|')
for (const [label, xs] of [
  ['fresh (migrations, keys, setup token)', fresh],
  ['existing (restart)', again],
] as const)
  console.log(
    `| ${label} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`,
  )

import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { REPO } from './support/processes.js'

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) return name === 'testdata' ? [] : sources(p)
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : []
  })
}

test('every error code listed in a capability errors.ts is unique across the project', () => {
  const owners = new Map<string, string>()
  const files = sources(path.join(REPO, 'src')).filter((f) => path.basename(f) === 'errors.ts')
  assert.ok(files.length >= 2, 'errors.ts files were found')
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(/'(PAL_[A-Z0-9_]+)'/g)) {
      const code = m[1]!
      const previous = owners.get(code)
      assert.ok(previous === undefined || previous === file, `${code} is listed in ${previous} and ${file}`)
      owners.set(code, file)
    }
  }
})

test('every error code used in the source follows PAL_<AREA>_<WHAT>', () => {
  let seen = 0
  for (const file of sources(path.join(REPO, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(
      /(?:Invalid|NotFound|Conflict|Forbidden|Unauthenticated|Throttled|TooLarge|Unavailable|Internal)Error\(\s*'([A-Za-z0-9_]+)'/g,
    )) {
      seen++
      assert.match(m[1]!, /^PAL_[A-Z0-9]+_[A-Z0-9_]+$/, `${path.relative(REPO, file)} uses code ${m[1]}`)
    }
  }
  assert.ok(seen > 10)
})

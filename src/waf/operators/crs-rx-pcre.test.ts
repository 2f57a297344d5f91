/**
 * Differential test against real PCRE2: testdata/crs-rx-pcre.json holds what PCRE2 (ModSecurity's
 * regex library, with its DOTALL | MULTILINE flags) answers for every CRS 3.3.4 @rx pattern on 400
 * inputs taken from the CRS regression tests (regenerate with testdata/pcre-oracle.py). The @rx
 * operator must agree on match / no match, and on TX.0-TX.9 when it runs on RE2 (the JS fallback
 * drops a leading `X*?` from its match, see rx.ts).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import { compileRegex } from './rx.js'

interface Oracle {
  readonly patterns: ReadonlyArray<{ readonly id: string; readonly pattern: string }>
  readonly inputs: readonly string[]
  readonly positives: ReadonlyArray<[number, number, ReadonlyArray<string | null>]>
}

const oracle = JSON.parse(
  readFileSync(new URL('./testdata/crs-rx-pcre.json', import.meta.url), 'latin1'),
) as Oracle

test('the PCRE2 oracle corpus loaded patterns, inputs and matches', () => {
  assert.ok(oracle.patterns.length > 0)
  assert.ok(oracle.inputs.length > 0)
  assert.ok(oracle.positives.length > 0)
})

/**
 * Rules whose possessive quantifiers RE2 runs as a superset (docs/waf-regex-fallbacks.md): there @rx
 * may match more than PCRE, never less. 920600, the other CRS 3.3.4 rule with possessive
 * quantifiers, is translated exactly and must agree fully.
 */
const SUPERSET = new Set(['942260'])

const expected = new Map<number, Map<number, ReadonlyArray<string | null>>>()
for (const [p, i, captures] of oracle.positives) {
  let byInput = expected.get(p)
  if (byInput === undefined) expected.set(p, (byInput = new Map()))
  byInput.set(i, captures)
}

describe('CRS @rx agrees with PCRE2', () => {
  oracle.patterns.forEach(({ id, pattern }, p) => {
    test(`rule ${id} pattern #${p}`, () => {
      const { engine, operator } = compileRegex(pattern)
      const hits = expected.get(p) ?? new Map<number, ReadonlyArray<string | null>>()
      const wrong: string[] = []
      oracle.inputs.forEach((input, i) => {
        const got = operator(input)
        const want = hits.get(i)
        if ((got !== null) !== (want !== undefined)) {
          if (want === undefined && SUPERSET.has(id)) return
          wrong.push(`${want ? 'missed' : 'extra match on'} ${JSON.stringify(input.slice(0, 80))}`)
        } else if (got !== null && want !== undefined && engine === 're2') {
          const pcre = want.map((c) => c ?? '')
          if (JSON.stringify(got.captures) !== JSON.stringify(pcre))
            wrong.push(`captures ${JSON.stringify(got.captures)} != ${JSON.stringify(pcre)}`)
        }
      })
      assert.deepEqual(wrong, [])
    })
  })
})

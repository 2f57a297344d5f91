/**
 * Compiles every `@rx` of the installed OWASP CRS through the @rx factory, counts the patterns that
 * need the JS RegExp fallback (docs/waf-regex-fallbacks.md lists them), and runs hostile 100 KB
 * inputs through every pattern (a ReDoS check: timings are printed, not asserted).
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { compileRegex, type CompiledRegex } from './rx.js'

const CRS_RULES = '/usr/share/modsecurity-crs/rules'

interface RxRule {
  readonly id: string
  readonly file: string
  readonly pattern: string
}

/** A small extraction over the .conf text (the real SecLang parser lives in seclang/). */
function extractRxRules(dir: string): RxRule[] {
  const rules: RxRule[] = []
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.conf'))
    .sort()) {
    const logical = readFileSync(join(dir, file), 'latin1')
      .split('\n')
      .filter((line) => !/^\s*#/.test(line))
      .join('\n')
      .replace(/\\\n/g, ' ')
      .split('\n')
    let lastId = '?'
    for (const line of logical) {
      const m = /^\s*SecRule\s+\S+\s+"((?:[^"\\]|\\.)*)"\s*(?:"((?:[^"\\]|\\.)*)")?/.exec(line)
      if (m === null) continue
      const id = /\bid:'?(\d+)/.exec(m[2] ?? '')?.[1]
      if (id !== undefined) lastId = id // chained rules have no id: they belong to the chain starter
      const op = /^!?@rx (.*)$/s.exec(m[1]!)
      if (op === null) continue
      // Inside the quoted operator argument SecLang only unescapes \" .
      let pattern = op[1]!.replace(/\\"/g, '"')
      // Macros are expanded by the engine before compiling; use a plausible value here.
      pattern = pattern.replace(/%\{tx\.allowed_request_content_type_charset\}/gi, 'utf-8|iso-8859-1')
      rules.push({ id: id ?? lastId, file, pattern })
    }
  }
  return rules
}

const available = existsSync(CRS_RULES)
const skip = available ? false : `${CRS_RULES} is missing (install the modsecurity-crs package)`
const rules = available ? extractRxRules(CRS_RULES) : []
const compiled = new Map<RxRule, CompiledRegex>()

test('every CRS @rx pattern compiles', { skip }, () => {
  assert.ok(rules.length > 200, `found only ${rules.length} @rx rules`)
  const fallbacks: string[] = []
  for (const rule of rules) {
    const c = compileRegex(rule.pattern)
    compiled.set(rule, c)
    if (c.engine === 'js') fallbacks.push(`${rule.id} (${rule.file})`)
  }
  console.log(
    `# ${rules.length} @rx patterns, ${fallbacks.length} on the JS fallback: ${fallbacks.join(', ') || 'none'}`,
  )
  // Keep docs/waf-regex-fallbacks.md honest: it lists exactly these rules.
  assert.deepEqual(
    fallbacks.map((f) => f.split(' ')[0]),
    ['920120', '942130', '953120'],
  )
})

test('hostile 100 KB inputs complete against every CRS @rx pattern', { skip }, () => {
  assert.ok(compiled.size > 0, 'the compile test ran first')
  const size = 100 * 1024
  const fill = (unit: string): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size)
  const inputs: Record<string, string> = {
    letters: fill('a'),
    spaces: fill(' \t'),
    sql: fill("' or 1=1 union select/**/"),
    nested: fill('((((<<<<%%%%\\\\'),
    shell: fill(';${IFS}cat$u /e"t"c/pa\'s\'swd|'),
    bytes: fill('\xc0\xaf%u00\xff\x00'),
  }
  let total = 0
  const slowest: Array<[number, string]> = []
  for (const [rule, c] of compiled) {
    const started = process.hrtime.bigint()
    for (const input of Object.values(inputs)) c.operator(input)
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    total += ms
    slowest.push([ms, `${rule.id}/${c.engine}`])
  }
  slowest.sort((a, b) => b[0] - a[0])
  const top = slowest
    .slice(0, 5)
    .map(([ms, id]) => `${id} ${ms.toFixed(1)} ms`)
    .join(', ')
  console.log(
    `# ${compiled.size} patterns x ${Object.keys(inputs).length} inputs of 100 KB: ${total.toFixed(0)} ms; slowest ${top}`,
  )
})

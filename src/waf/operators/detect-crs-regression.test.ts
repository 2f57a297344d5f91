/**
 * Runs the detectors on the OWASP CRS 3.3.4 regression tests for 942100/942101 (@detectSQLi) and
 * 941100/941101 (@detectXSS), with each rule's variables and transformations reproduced roughly
 * (arguments split on `&` and `=` and URL-decoded once, as a body processor would, then the rule's
 * own transformations). It asserts the expected outcome of every test of those three rules, and
 * prints how often the detectors fire on the payloads of the other 941/942 tests (a measurement,
 * not an assertion: those tests target other rules). The full engine runs these same tests end to end.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { parse } from 'yaml'
import { TRANSFORMS } from '../transforms/index.js'
import { detectSQLi } from './detect-sqli.js'
import { detectXSS } from './detect-xss.js'
import type { Operator } from './operator.js'

const root = new URL('../../../../shared/crs-3.3.4/regression/tests/', import.meta.url)
const haveCrs = existsSync(root)

interface StageInput {
  uri?: string
  data?: string | string[]
  headers?: Record<string, unknown>
}
interface CrsTest {
  test_title: string
  stages: { stage: { input: StageInput; output: { log_contains?: string; no_log_contains?: string } } }[]
}

const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')
const t = (name: string): ((s: string) => string) => {
  const fn = TRANSFORMS.get(name)
  if (fn === undefined) throw new Error(`missing transform ${name}`)
  return fn
}
const urlDecode = t('urlDecode')
const chain = (names: string[]): ((s: string) => string) => {
  const fns = names.map(t)
  return (s) => fns.reduce((acc, fn) => fn(acc), s)
}
const sqliT = chain(['utf8toUnicode', 'urlDecodeUni', 'removeNulls'])
const xssT = chain([
  'utf8toUnicode',
  'urlDecodeUni',
  'htmlEntityDecode',
  'jsDecode',
  'cssDecode',
  'removeNulls',
])

function header(input: StageInput, name: string): string | undefined {
  for (const [k, v] of Object.entries(input.headers ?? {}))
    if (k.toLowerCase() === name) return bytes(String(v))
  return undefined
}

function args(qs: string): { names: string[]; values: string[] } {
  const names: string[] = []
  const values: string[] = []
  for (const part of qs.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    names.push(urlDecode(eq < 0 ? part : part.slice(0, eq)))
    values.push(eq < 0 ? '' : urlDecode(part.slice(eq + 1)))
  }
  return { names, values }
}

/** The variables a rule reads: ARGS, ARGS_NAMES, cookies and their names, User-Agent, Referer. */
function variables(input: StageInput): {
  args: string[]
  cookies: string[]
  ua: string[]
  referer: string[]
  basename: string[]
} {
  const a: string[] = []
  const uri = bytes(input.uri ?? '/')
  const q = uri.indexOf('?')
  const path = q < 0 ? uri : uri.slice(0, q)
  if (q >= 0) {
    const p = args(uri.slice(q + 1))
    a.push(...p.names, ...p.values)
  }
  const data = Array.isArray(input.data) ? input.data.join('\r\n') : input.data
  if (data !== undefined && data !== '') {
    const ct = header(input, 'content-type') ?? 'application/x-www-form-urlencoded'
    if (ct.startsWith('application/x-www-form-urlencoded')) {
      const p = args(bytes(data))
      a.push(...p.names, ...p.values)
    } else {
      a.push(bytes(data)) // rough: a JSON / XML / multipart body as one value
    }
  }
  const cookies: string[] = []
  for (const c of (header(input, 'cookie') ?? '').split(';')) {
    const eq = c.indexOf('=')
    if (c.trim() === '') continue
    cookies.push(c.slice(0, eq < 0 ? c.length : eq).trim(), eq < 0 ? '' : c.slice(eq + 1))
  }
  const ua = header(input, 'user-agent')
  const ref = header(input, 'referer')
  return {
    args: a,
    cookies,
    ua: ua === undefined ? [] : [ua],
    referer: ref === undefined ? [] : [ref],
    basename: [path.slice(path.lastIndexOf('/') + 1)],
  }
}

const ctx = { readFile: () => '', baseDir: '.' }
const sqli = detectSQLi('', ctx)
const xss = detectXSS('', ctx)

const RULES: Record<
  string,
  { op: Operator; transform: (s: string) => string; pick: (v: ReturnType<typeof variables>) => string[] }
> = {
  '942100': { op: sqli, transform: sqliT, pick: (v) => [...v.cookies, ...v.ua, ...v.referer, ...v.args] },
  '942101': { op: sqli, transform: sqliT, pick: (v) => v.basename },
  '941100': { op: xss, transform: xssT, pick: (v) => [...v.cookies, ...v.ua, ...v.args] },
  '941101': { op: xss, transform: xssT, pick: (v) => v.referer },
}

function fires(rule: string, input: StageInput): boolean {
  const r = RULES[rule]
  if (r === undefined) throw new Error(`unknown rule ${rule}`)
  return r.pick(variables(input)).some((value) => r.op(r.transform(value)) !== null)
}

function load(folder: string): { file: string; tests: CrsTest[] }[] {
  const dir = new URL(`${folder}/`, root)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const doc = parse(readFileSync(new URL(f, dir), 'utf8')) as {
        meta?: { enabled?: boolean }
        tests?: CrsTest[]
      }
      return { file: f, tests: doc.meta?.enabled === false ? [] : (doc.tests ?? []) }
    })
}

describe(
  'CRS 3.3.4 regression tests of the libinjection rules',
  { skip: haveCrs ? false : 'CRS tests not found' },
  () => {
    const sqliFiles = haveCrs ? load('REQUEST-942-APPLICATION-ATTACK-SQLI') : []
    const xssFiles = haveCrs ? load('REQUEST-941-APPLICATION-ATTACK-XSS') : []
    const own = [
      ...sqliFiles.filter((f) => f.file === '942100.yaml' || f.file === '942101.yaml'),
      ...xssFiles.filter((f) => f.file === '941100.yaml' || f.file === '941101.yaml'),
    ]

    test('the rule files load with their tests', () => {
      assert.equal(own.length, 4)
      assert.equal(
        own.reduce((n, f) => n + f.tests.length, 0),
        26,
      )
    })

    for (const { file, tests } of own) {
      const rule = file.slice(0, 6)
      for (const crs of tests) {
        for (const { stage } of crs.stages) {
          const expected = stage.output.log_contains !== undefined
          test(`${crs.test_title} ${expected ? 'fires' : 'does not fire'} ${rule}`, () => {
            assert.equal(fires(rule, stage.input), expected)
          })
        }
      }
    }

    test('reports how often the detectors fire on the other 941 and 942 payloads', () => {
      for (const [name, rule, files] of [
        ['SQLi', '942100', sqliFiles],
        ['XSS', '941100', xssFiles],
      ] as const) {
        let positive = 0
        let positiveHit = 0
        let negative = 0
        let negativeHit = 0
        for (const { tests } of files) {
          for (const crs of tests) {
            for (const { stage } of crs.stages) {
              const hit = fires(rule, stage.input)
              if (stage.output.log_contains !== undefined) {
                positive++
                if (hit) positiveHit++
              } else {
                negative++
                if (hit) negativeHit++
              }
            }
          }
        }
        assert.ok(positive > 0)
        console.log(
          `${name}: fires on ${positiveHit}/${positive} attack tests of other rules in its file set, ` +
            `and on ${negativeHit}/${negative} of their "must not match" tests`,
        )
      }
    })
  },
)

import { createReadStream, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { Command, InvalidArgumentError } from 'commander'
import type { RuleSet, WafRequest, WafSettings } from '../../waf/index.js'
import { createClient } from '../client.js'
import { print, stdio, type Io } from '../output.js'
import { resolveEnvironment, UsageError } from '../resolve.js'

/** Palisade's rule-set regression tests (CRS YAML format), beside the sources in src/ and dist/ alike. */
const PALISADE_TESTS_DIR = fileURLToPath(new URL('../../../src/waf/crs/testdata/palisade', import.meta.url))

function crsDirFrom(opt: string | undefined): string {
  return opt ?? process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
}

function paranoia(value: string): 1 | 2 | 3 | 4 {
  if (!/^[1-4]$/.test(value)) throw new InvalidArgumentError('paranoia must be 1, 2, 3 or 4')
  return Number(value) as 1 | 2 | 3 | 4
}

/** A scalar JSON/YAML value as text; anything else (objects, arrays, null) gives `fallback`. */
function text(v: unknown, fallback: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return fallback
}

/** UTF-8 text → byte string (what node:http would give for the same bytes). */
function bytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1')
}

function toRequest(line: unknown, n: number): WafRequest {
  if (typeof line !== 'object' || line === null) throw new Error('not a JSON object')
  const o = line as Record<string, unknown>
  const headers = o['headers'] ?? {}
  if (typeof headers !== 'object' || headers === null) throw new Error('headers must be an object')
  const list: Array<[string, string]> = Array.isArray(headers)
    ? (headers as Array<[unknown, unknown]>).map(([k, v]) => [bytes(text(k, '')), bytes(text(v, ''))])
    : Object.entries(headers).map(([k, v]) => [bytes(k), bytes(text(v, ''))])
  const req: WafRequest = {
    method: bytes(text(o['method'], 'GET')),
    uri: bytes(text(o['uri'], '/')),
    protocol: text(o['protocol'], 'HTTP/1.1'),
    headers: list,
    remoteAddr: text(o['remoteAddr'], '127.0.0.1'),
    id: text(o['id'], String(n)),
  }
  if (typeof o['body'] === 'string' && o['body'] !== '') {
    req.body = new Uint8Array(Buffer.from(o['body'], 'utf8'))
    // An HTTP server always knows the body length; say so as a client would have.
    if (!list.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) {
      list.push(['Content-Length', String(req.body.byteLength)])
    }
  }
  return req
}

/**
 * The WAF engine and the edge's file source, loaded when a `waf` command runs: they are most of the platform's
 * code, which every other `palisade` command (`serve` included) would otherwise load at each start.
 */
async function wafModules(): Promise<
  typeof import('../../waf/index.js') & typeof import('../../edge/index.js')
> {
  const [waf, edge] = await Promise.all([import('../../waf/index.js'), import('../../edge/index.js')])
  return { ...waf, ...edge }
}

function loadRules(
  { baselineRuleSet, crsRuleSet, createFsWafSource }: Awaited<ReturnType<typeof wafModules>>,
  crsOpt: string | undefined,
  settings: WafSettings,
  io: Io,
): RuleSet {
  const dir = crsDirFrom(crsOpt)
  if (!existsSync(join(dir, 'rules'))) {
    io.err(`palisade waf: CRS not found at ${dir}/rules; using Palisade's built-in baseline rules`)
    return baselineRuleSet(settings)
  }
  return crsRuleSet(dir, settings, createFsWafSource())
}

/** Blocked and total requests per (label, category) of a labelled corpus. */
class EvalSummary {
  readonly #rows = new Map<string, { label: string; category: string; blocked: number; total: number }>()

  add(label: string, category: string, blocked: boolean): void {
    for (const c of [category, '(all)']) {
      const key = `${label}\t${c}`
      const row = this.#rows.get(key) ?? { label, category: c, blocked: 0, total: 0 }
      row.total++
      if (blocked) row.blocked++
      this.#rows.set(key, row)
    }
  }

  /** One line per label and category: attacks give the TPR (blocked), benign requests the FPR. */
  lines(): string[] {
    const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`)
    const rows = [...this.#rows.values()].sort(
      (a, b) =>
        a.label.localeCompare(b.label) ||
        Number(b.category === '(all)') - Number(a.category === '(all)') ||
        a.category.localeCompare(b.category),
    )
    const out = [['LABEL', 'CATEGORY', 'REQUESTS', 'BLOCKED', 'RATE'].join('\t')]
    for (const r of rows) {
      const what = r.label === 'attack' ? 'TPR' : r.label === 'benign' ? 'FPR' : 'blocked'
      out.push([r.label, r.category, r.total, r.blocked, `${what} ${pct(r.blocked, r.total)}`].join('\t'))
    }
    return out
  }
}

export async function wafEval(
  opts: { jsonl: string; crs?: string; paranoia?: 1 | 2 | 3 | 4; summary?: boolean },
  io: Io = stdio,
): Promise<number> {
  const m = await wafModules()
  const { createWaf, evaluateRequest } = m
  const settings: WafSettings = { ...m.DEFAULT_WAF_SETTINGS, paranoia: opts.paranoia ?? 1 }
  const waf = createWaf(loadRules(m, opts.crs, settings, io))
  const input = opts.jsonl === '-' ? process.stdin : createReadStream(opts.jsonl, 'utf8')
  const summary = opts.summary === true ? new EvalSummary() : undefined
  let n = 0
  let errors = 0
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++
    if (line.trim() === '') continue
    let id: unknown = n
    try {
      const parsed = JSON.parse(line) as unknown
      id = (parsed as { id?: unknown }).id ?? n
      const v = evaluateRequest(waf, toRequest(parsed, n))
      if (summary !== undefined) {
        const o = parsed as { label?: unknown; category?: unknown }
        summary.add(text(o.label, '(unlabelled)'), text(o.category, '(none)'), v.action === 'block')
      } else io.out(JSON.stringify({ id, action: v.action, score: v.score, rules: v.rules }))
    } catch (e) {
      errors++
      io.out(JSON.stringify({ id, error: e instanceof Error ? e.message : String(e) }))
    }
  }
  if (summary !== undefined) for (const l of summary.lines()) io.out(l)
  return errors === 0 ? 0 : 1
}

/** Where the upstream CRS regression tests come from (they are YAML data in the CRS repository, tag v3.3.4). */
export const CRS_TESTS_HOWTO =
  'get them with `git clone --depth 1 --branch v3.3.4 https://github.com/coreruleset/coreruleset crs-3.3.4` and pass `--tests crs-3.3.4/tests/regression/tests` (or set PALISADE_CRS_TESTS_DIR)'

export async function wafTestCrs(
  opts: { filter?: string; crs?: string; tests?: string },
  io: Io = stdio,
): Promise<number> {
  const dir = crsDirFrom(opts.crs)
  const tests =
    opts.tests ?? process.env['PALISADE_CRS_TESTS_DIR'] ?? resolve('../shared/crs-3.3.4/regression/tests')
  if (!existsSync(join(dir, 'rules'))) {
    io.err(`palisade waf: CRS not found at ${dir}/rules`)
    return 2
  }
  // The CRS's own tests are not in Debian's package nor in this repository: without them, say where to get
  // them and run Palisade's own suite (shipped in src/) rather than nothing.
  const haveUpstream = existsSync(tests)
  if (!haveUpstream) {
    io.err(`palisade waf: the CRS 3.3.4 regression tests are not at ${tests}; ${CRS_TESTS_HOWTO}`)
    io.err("palisade waf: running Palisade's own rule set regression tests only")
  }
  const {
    createFsWafSource,
    createWaf,
    loadRegressionFiles,
    palisadeTestRuleSet,
    runRegressionFile,
    upstreamTestRuleSet,
  } = await wafModules()
  const source = createFsWafSource()
  let pass = 0
  let fail = 0
  let skip = 0
  io.out(['FILE', 'PASS', 'FAIL', 'SKIP'].join('\t'))
  const suites: Array<[RuleSet, string]> = haveUpstream ? [[upstreamTestRuleSet(dir, source), tests]] : []
  // Palisade's own rule set has its regression tests in the same format (after CRS's).
  if (existsSync(PALISADE_TESTS_DIR)) suites.push([palisadeTestRuleSet(dir, source), PALISADE_TESTS_DIR])
  for (const [rules, testsDir] of suites) {
    const waf = createWaf(rules)
    for (const f of loadRegressionFiles(testsDir, source)) {
      if (opts.filter && !`${f.folder}/${f.name}`.includes(opts.filter)) continue
      const r = runRegressionFile(waf, f)
      pass += r.pass
      fail += r.fail
      skip += r.skip
      io.out([`${f.folder}/${f.name}`, r.pass, r.fail, f.enabled ? r.skip : 'disabled'].join('\t'))
      for (const x of r.failures) io.out(`  FAIL ${x.title}: ${x.reason}`)
    }
  }
  io.out(['TOTAL', pass, fail, skip].join('\t'))
  return fail === 0 ? 0 : 1
}

interface DecideOptions {
  uri: string
  method: string
  header: string[]
  body?: string
  clientIp?: string
  env?: string
  project?: string
}

interface Decision {
  decisionId: string
  decision: 'allow' | 'deny'
  status: number
  score: number
  rules: string[]
}

async function wafDecide(o: DecideOptions, c: Command): Promise<number> {
  const headers: Record<string, string> = {}
  for (const line of o.header) {
    const at = line.indexOf(':')
    if (at <= 0) throw new UsageError(`--header wants 'Name: value', got '${line}'`)
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim()
  }
  const client = createClient()
  const environment =
    o.env === undefined
      ? undefined
      : await resolveEnvironment(client, o.env, {
          ...(o.project ? { project: o.project } : {}),
          ...c.optsWithGlobals<{ workspace?: string }>(),
        })
  const d = await client.request<Decision>('POST', '/v1/decide', {
    method: o.method,
    uri: o.uri,
    headers,
    ...(o.body === undefined ? {} : { body: o.body }),
    ...(o.clientIp === undefined ? {} : { clientIp: o.clientIp }),
    ...(environment === undefined ? {} : { environment }),
  })
  print(c, d, [
    ['decision', (x: Decision) => x.decision],
    ['status', (x: Decision) => x.status],
    ['score', (x: Decision) => x.score],
    ['rules', (x: Decision) => x.rules.join(',')],
    ['decision id', (x: Decision) => x.decisionId],
  ])
  return d.decision === 'deny' ? 1 : 0
}

/** `palisade waf …`: evaluate requests offline and run the CRS regression suite. */
export function wafCommand(): Command {
  const cmd = new Command('waf').description(
    'the web application firewall (offline evaluation and CRS regression tests)',
  )
  cmd
    .command('eval')
    .description('evaluate requests, one JSON object per line: {"id","method","uri","headers":{},"body"}')
    .requiredOption('--jsonl <file>', 'input file (- for stdin)')
    .option('--crs <dir>', 'CRS directory (default: $PALISADE_CRS_DIR or /usr/share/modsecurity-crs)')
    .option('--paranoia <n>', 'paranoia level 1-4', paranoia, 1 as 1 | 2 | 3 | 4)
    .option(
      '--summary',
      'print, instead of one line per request, the share blocked per label and category (TPR for attacks, FPR for benign)',
    )
    .action(async (o: { jsonl: string; crs?: string; paranoia: 1 | 2 | 3 | 4; summary?: boolean }) => {
      process.exitCode = await wafEval(o)
    })
  cmd
    .command('decide')
    .description(
      'the WAF verdict for a request, from the API (POST /v1/decide; needs PALISADE_SIGNING_KEY/_ID); exit 1 on deny',
    )
    .requiredOption('--uri <target>', 'path and query, or an absolute URL')
    .option('--method <method>', 'HTTP method', 'GET')
    .option(
      '--header <line>',
      "a request header, 'Name: value' (repeatable)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--body <text>', 'request body')
    .option('--client-ip <ip>', 'the client address the proxy saw')
    .option(
      '--env <env>',
      'apply this environment’s WAF tuning and log denies there (name, project/env or id)',
    )
    .option('--project <name>', 'project of --env')
    .action(async (o: DecideOptions, c: Command) => {
      process.exitCode = await wafDecide(o, c)
    })
  cmd
    .command('test-crs')
    .description('run the OWASP CRS 3.3.4 regression tests against the engine')
    .option('--filter <text>', 'only rule files whose path contains this (e.g. 942)')
    .option('--crs <dir>', 'CRS directory (default: $PALISADE_CRS_DIR or /usr/share/modsecurity-crs)')
    .option(
      '--tests <dir>',
      'CRS regression tests directory (default: $PALISADE_CRS_TESTS_DIR or ../shared/crs-3.3.4/regression/tests; from the CRS repository at tag v3.3.4, tests/regression/tests)',
    )
    .action(async (o: { filter?: string; crs?: string; tests?: string }) => {
      process.exitCode = await wafTestCrs(o)
    })
  return cmd
}

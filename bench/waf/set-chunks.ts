/**
 * What the rule set's RE2 sets cost on the values the engine gives them: the benign mix of bench/waf/benign-mix.ts
 * is evaluated (compiled engine, CRS at the given paranoia level with Palisade's set-up) while every value a set
 * scans is recorded; then the same sequence of values (new ones, as in traffic) is scanned again by sets of
 * different sizes, each built fresh, and by each set of the engine's own split alone.
 * Prints CPU µs per value. Run: npm run build && node --import tsx bench/waf/set-chunks.ts [requests=5000] [paranoia=1]
 */
import RE2 from 're2'
import { benignRequest } from './benign-mix.js'

const requests = Number(process.argv[2] ?? 5000)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const seen: { sources: string[]; inputs: Buffer[] }[] = []
const Original = RE2.Set
// Record what each set is built from and given (dist/ imports the same 're2' module).
;(RE2 as unknown as { Set: unknown }).Set = function (sources: string[], flags: string) {
  const set = new Original(sources, flags)
  const record = { sources: [...sources], inputs: [] as Buffer[] }
  seen.push(record)
  return { match: (b: Buffer) => (record.inputs.push(b), set.match(b)) }
}
const engine = await import('./compiled-engine.js')
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const ruleSet = engine.crsRuleSet(
  crsDir,
  { ...engine.DEFAULT_WAF_SETTINGS, paranoia },
  engine.createFsWafSource(),
)
const waf = engine.createWaf(ruleSet)
for (let i = 1; i <= requests; i++) engine.evaluateRequest(waf, benignRequest(i))

const sources = seen.flatMap((s) => s.sources)
// Every distinct value any set scanned, in the order first seen.
const values = [...new Map(seen.flatMap((s) => s.inputs).map((b) => [b.toString('latin1'), b])).values()]
const cpu = (run: () => void): number => {
  const t = process.cpuUsage()
  run()
  const c = process.cpuUsage(t)
  return (c.user + c.system) / values.length
}
const split = (size: number): Array<InstanceType<typeof Original>> =>
  Array.from(
    { length: Math.ceil(sources.length / size) },
    (_, i) => new Original(sources.slice(i * size, (i + 1) * size), 'sm'),
  )
console.log(
  `${sources.length} patterns in ${seen.length} sets; ${values.length} distinct values from ${requests} requests`,
)
console.log('| patterns per set | sets | µs per value, all sets |\n| ---: | ---: | ---: |')
for (const size of [sources.length, 140, 70, 32, 16]) {
  const sets = split(size)
  console.log(
    `| ${size} | ${sets.length} | ${cpu(() => {
      for (const v of values) for (const s of sets) s.match(v)
    }).toFixed(2)} |`,
  )
}
console.log(
  "\nThe engine's own sets, each alone:\n| set | patterns | first pattern | µs per value |\n| ---: | ---: | --- | ---: |",
)
for (const [i, s] of seen.entries()) {
  const set = new Original(s.sources, 'sm')
  console.log(
    `| ${i} | ${s.sources.length} | \`${s.sources[0]!.slice(0, 40).replace(/\|/g, '\\|')}\` | ${cpu(() => {
      for (const v of values) set.match(v)
    }).toFixed(2)} |`,
  )
}

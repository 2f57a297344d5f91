/**
 * Where the WAF engine allocates: V8's sampling heap profiler over evaluateRequest on the benign mix, counting
 * objects the young-generation GC already collected too (what makes scavenges frequent). Prints the top sites.
 * Run: npm run build && node --import tsx bench/waf/alloc-profile.ts [requests=20000] [paranoia=1]
 */
import { Session } from 'node:inspector/promises'
import type { WafRequest } from '../../src/waf/index.js'
import { benignRequest } from './benign-mix.js'
import {
  createFsWafSource,
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
} from './compiled-engine.js'

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: ProfileNode[]
}

const requests = Number(process.argv[2] ?? 20000)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const waf = createWaf(crsRuleSet(crsDir, { ...DEFAULT_WAF_SETTINGS, paranoia }, createFsWafSource()))
for (let i = 1; i <= 20000; i++) evaluateRequest(waf, benignRequest(i))
const batch: WafRequest[] = Array.from({ length: requests }, (_, i) => benignRequest(20001 + i))

const session = new Session()
session.connect()
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 512,
  includeObjectsCollectedByMinorGC: true,
  includeObjectsCollectedByMajorGC: true,
})
for (const r of batch) evaluateRequest(waf, r)
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } }
const bySite = new Map<string, number>()
let total = 0
const walk = (n: ProfileNode): void => {
  const f = n.callFrame
  const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`
  bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize)
  total += n.selfSize
  for (const c of n.children) walk(c)
}
walk(profile.head)
console.log(`bytes per request ~${Math.round(total / requests)}`)
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 30))
  console.log(`${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${site}`)

/**
 * Palisade's CRS set-up: the SecLang text that stands in for modsecurity.conf + crs-setup.conf,
 * generated from `WafSettings`. Blocking anomaly mode is fixed: there is no setting that turns the
 * WAF off or into detection-only, and an exclusion that would remove the blocking evaluation is refused.
 */
import type { RuleSet } from '../engine/rule.js'
import type { WafSettings, WafSource } from '../engine/types.js'
import { WafConfigError } from '../errors.js'
import { loadRuleSet } from '../seclang/load.js'
import { findVariable, parseSelectors } from '../variables/index.js'
import { BASELINE_RULES } from './baseline.js'
import { PALISADE_EXCLUSIONS, PALISADE_RULES } from './palisade-rules.js'

export const DEFAULT_WAF_SETTINGS: Readonly<WafSettings> = Object.freeze({
  paranoia: 1,
  inboundThreshold: 5,
  outboundThreshold: 4,
  exclusions: [],
  allowedMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  allowedContentTypes: [
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'multipart/related',
    'text/xml',
    'application/xml',
    'application/soap+xml',
    'application/json',
    // JSON under another name (RFC 6839 +json): JSON Patch, merge patch, JSON:API, JSON-LD, browsers'
    // CSP and Reporting API reports. Rule 200001 hands every one of them to the JSON body processor.
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/vnd.api+json',
    'application/ld+json',
    'application/csp-report',
    'application/reports+json',
    'application/cloudevents+json',
    'application/cloudevents-batch+json',
    'application/graphql',
    // Newline-delimited JSON (bulk and log APIs): rule 200001 hands it to the JSON processor, one document a line.
    'application/x-ndjson',
    'application/jsonl',
    'text/plain',
    // CSV imports: every cell is an argument (csv.<row>.<column>).
    'text/csv',
  ],
  requestBodyLimit: 10 * 1024 * 1024, // bytes; bodies with files. Without files: min(this, 1 MiB)
  responseInspection: false,
})

/**
 * Arguments kept per source (query, form body, JSON, multipart fields, cookies). The parsers stop
 * there and rule 200007 denies a request that reaches it: an attacker who sends a thousand decoy
 * parameters before the payload must not get the payload past every rule (ModSecurity's
 * recommended rule 200007 for SecArgumentsLimit).
 */
const ARGUMENTS_LIMIT = 1000

/** Rules whose removal would switch blocking off; exclusions may not remove them. */
const PROTECTED_IDS: ReadonlyArray<[number, number]> = [
  [200002, 200004],
  [200007, 200007],
  [901000, 901999],
  [949000, 949999],
  [959000, 959999],
  [9509110, 9509110],
]

function invalid(message: string): never {
  throw new WafConfigError('PAL_WAF_SETTINGS_INVALID', message)
}

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/
const CONTENT_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/

function validate(s: WafSettings): void {
  if (![1, 2, 3, 4].includes(s.paranoia)) invalid('paranoia must be 1, 2, 3 or 4')
  for (const [name, v] of [
    ['inboundThreshold', s.inboundThreshold],
    ['outboundThreshold', s.outboundThreshold],
  ] as const) {
    // A huge threshold would be detection-only in disguise; CRS severities are 2..5 per match.
    if (!Number.isInteger(v) || v < 1 || v > 100) invalid(`${name} must be an integer 1..100`)
  }
  for (const m of s.allowedMethods ?? []) if (!TOKEN.test(m)) invalid(`not an HTTP method: '${m}'`)
  for (const c of s.allowedContentTypes ?? [])
    if (!CONTENT_TYPE.test(c)) invalid(`not a content type: '${c}'`)
  if (
    s.requestBodyLimit !== undefined &&
    (!Number.isInteger(s.requestBodyLimit) || s.requestBodyLimit < 1024)
  ) {
    invalid('requestBodyLimit must be an integer ≥ 1024 (bytes)')
  }
}

function protectedId(a: number, b: number): boolean {
  return PROTECTED_IDS.some(([x, y]) => a <= y && b >= x)
}

function exclusionText(s: WafSettings): string {
  const lines: string[] = []
  for (const [i, e] of s.exclusions.entries()) {
    const where = `exclusions[${i}]`
    if ((e.ruleId === undefined) === (e.tag === undefined))
      invalid(`${where}: give exactly one of ruleId or tag`)
    let ids: string | undefined
    if (e.ruleId !== undefined) {
      const [a, b] = Array.isArray(e.ruleId) ? e.ruleId : [e.ruleId, e.ruleId]
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b < a)
        invalid(`${where}: invalid rule id range`)
      if (protectedId(a, b))
        invalid(`${where}: rules ${a}-${b} include the blocking evaluation, which cannot be excluded`)
      ids = a === b ? String(a) : `${a}-${b}`
    }
    if (e.tag !== undefined && !/^[A-Za-z0-9_./-]+$/.test(e.tag)) invalid(`${where}: invalid tag '${e.tag}'`)
    const tagRe = e.tag === undefined ? undefined : `^${e.tag.replace(/[.]/g, '\\.')}$`
    if (e.target === undefined) {
      lines.push(ids !== undefined ? `SecRuleRemoveById ${ids}` : `SecRuleRemoveByTag "${tagRe}"`)
      continue
    }
    if (/["\s\\|]/.test(e.target)) invalid(`${where}: invalid target '${e.target}'`)
    try {
      const sel = parseSelectors(e.target, (n) => findVariable(n) !== undefined)
      if (sel.length !== 1 || sel[0]!.count || sel[0]!.exclude) throw new Error('one plain variable expected')
    } catch (cause) {
      invalid(
        `${where}: invalid target '${e.target}': ${cause instanceof Error ? cause.message : String(cause)}`,
      )
    }
    lines.push(
      ids !== undefined
        ? `SecRuleUpdateTargetById ${ids} "!${e.target}"`
        : `SecRuleUpdateTargetByTag "${tagRe}" "!${e.target}"`,
    )
  }
  return lines.join('\n')
}

/**
 * The SecLang that Palisade loads before the CRS rule files (engine settings, body processors,
 * body-error rules from ModSecurity's recommended configuration, and crs-setup.conf values).
 */
export function crsSetupText(settings: WafSettings): string {
  validate(settings)
  const s = { ...DEFAULT_WAF_SETTINGS, ...settings }
  const limit = s.requestBodyLimit ?? DEFAULT_WAF_SETTINGS.requestBodyLimit!
  const methods = (s.allowedMethods ?? DEFAULT_WAF_SETTINGS.allowedMethods!).join(' ')
  const types = (s.allowedContentTypes ?? DEFAULT_WAF_SETTINGS.allowedContentTypes!)
    .map((t) => `|${t}|`)
    .join(' ')
  return `# Code generated by palisade crs/setup.ts. DO NOT EDIT.
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit ${limit}
SecRequestBodyNoFilesLimit ${Math.min(limit, 1024 * 1024)}
SecRequestBodyLimitAction Reject
SecResponseBodyAccess ${s.responseInspection ? 'On' : 'Off'}
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecCollectionTimeout 600
SecComponentSignature "palisade"
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"

SecRule REQUEST_HEADERS:Content-Type "@rx (?:application(?:/soap\\+|/)|text/)xml" \\
  "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx application/(?:json|[a-z0-9.-]+\\+json|csp-report|x-ndjson|jsonl)" \\
  "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" \\
  "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}'"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \\
  "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \\
  "id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecArgumentsLimit ${ARGUMENTS_LIMIT}
SecRule &ARGS_GET|&ARGS_POST|&REQUEST_COOKIES|&FILES "@ge ${ARGUMENTS_LIMIT}" \\
  "id:200007,phase:2,t:none,log,deny,status:400,msg:'Failed to fully parse request due to large argument count',severity:2"

SecAction "id:900000,phase:1,pass,nolog,t:none,setvar:tx.paranoia_level=${s.paranoia}"
SecAction "id:900110,phase:1,pass,nolog,t:none,setvar:tx.inbound_anomaly_score_threshold=${s.inboundThreshold},setvar:tx.outbound_anomaly_score_threshold=${s.outboundThreshold}"
SecAction "id:900200,phase:1,pass,nolog,t:none,setvar:'tx.allowed_methods=${methods}'"
SecAction "id:900220,phase:1,pass,nolog,t:none,setvar:'tx.allowed_request_content_type=${types}'"
SecAction "id:900990,phase:1,pass,nolog,t:none,setvar:tx.crs_setup_version=334"
`
}

function assertBlockingIntact(rs: RuleSet, needs: number[]): void {
  const ids = new Set(rs.rules.map((r) => r.id))
  for (const id of needs) {
    if (!ids.has(id)) {
      throw new WafConfigError(
        'PAL_WAF_EXCLUSION_DISABLES_WAF',
        `the exclusions remove rule ${id}, which would disable blocking`,
      )
    }
  }
}

/**
 * Palisade's CRS set-up followed by every `rules/*.conf` of the CRS directory and the exclusions.
 * Throws WafConfigError for invalid settings or rule files.
 * @example crsRuleSet('/usr/share/modsecurity-crs', DEFAULT_WAF_SETTINGS, source)
 */
export function crsRuleSet(crsDir: string, settings: WafSettings, source: WafSource): RuleSet {
  const setup = crsSetupText(settings)
  const rs = loadRuleSet({
    text: `${setup}\n${PALISADE_EXCLUSIONS}\nInclude ${crsDir.replace(/\/$/, '')}/rules/*.conf\n${PALISADE_RULES}\n${exclusionText(settings)}\n`,
    textName: '<palisade-crs-setup>',
    source,
  })
  assertBlockingIntact(rs, [949110, 200002, 9509110])
  return rs
}

/**
 * Built-in rules for when CRS is not installed: SQLi, XSS, path traversal and command injection
 * basics, then Palisade's own rule set (JNDI, NoSQL, SSTI, SSRF, XXE, ... : it reads no CRS rule and
 * scores the same way), with the same anomaly scoring and blocking threshold.
 */
export function baselineRuleSet(settings: WafSettings): RuleSet {
  const setup = crsSetupText(settings)
  const none: WafSource = {
    readFile: (p) => invalid(`baseline rules read no files (asked for ${p})`),
    listFiles: () => [],
  }
  const rs = loadRuleSet({
    text: `${setup}\n${BASELINE_RULES}\n${PALISADE_RULES}\n${exclusionText(settings)}\n`,
    textName: '<palisade-baseline>',
    source: none,
  })
  assertBlockingIntact(rs, [949110, 200002, 9509110])
  return rs
}

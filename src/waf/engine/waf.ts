/**
 * Runs a RuleSet over transactions: phases 1–5, chains, skip/skipAfter, ctl, collections, captures,
 * multiMatch, transformation caching. Never throws on traffic: a block is an `Interruption`.
 */
import type { ActionRuleInfo, ActionTx, CtlCommand } from '../actions/action.js'
import type { Macro } from '../actions/macro.js'
import { base64View } from '../body/base64-view.js'
import { expandGraphql, graphqlArgs } from '../body/graphql.js'
import { parseCsv } from '../body/csv.js'
import { parseJson } from '../body/json.js'
import { parseMultipart, strictError } from '../body/multipart.js'
import { parseUrlEncoded, urlDecodeNonStrict } from '../body/urlencoded.js'
import { parseXml } from '../body/xml.js'
import type { Operator } from '../operators/operator.js'
import { findVariable, parseSelectors, selectorCovers } from '../variables/index.js'
import type { Entry, KeyedCollection, TransactionData, VariableDefinition } from '../variables/variable.js'
import { createMemoryCollectionStore, type CollectionRecord, type CollectionStore } from './collections.js'
import type { MemoryBudget } from '../memory-budget.js'
import { keepCommonMisses, markMissed, missed, type MissRecord } from './miss-memo.js'
import { compilePhases, type CompiledPhases, type RuleStep, type TargetStep } from './program.js'
import type { CompiledOperator, Rule, RuleSet, VariableSelector } from './rule.js'
import { toInt } from './tx-int.js'
import type { Interruption, MatchedRule, Phase, WafRequest } from './types.js'

/** Newline-delimited JSON: the JSON processor reads it one document a line. */
const NDJSON_TYPE = /^\s*application\/(?:x-ndjson|jsonl)\b/i

export interface WafOptions {
  /** Persistent collections store (IP, GLOBAL, ...). Defaults to a bounded in-memory store. */
  store?: CollectionStore
  /** Clock in ms; injectable for tests. */
  now?: () => number
  /**
   * A limit shared with other WAFs on what their caches remember about values seen (MissMemo, the RE2 set's
   * answers); each WAF also has its own bound. The edge passes one for all the WAFs it compiles.
   */
  memory?: MemoryBudget
  /**
   * Work out, when compiling, the outcomes of rules that do not depend on the request (fold.ts). On by default;
   * tests turn it off to compare verdicts with and without.
   */
  fold?: boolean
}

export interface Transaction {
  readonly id: string
  processRequestHeaders(): Interruption | null
  processRequestBody(): Interruption | null
  processResponseHeaders(
    status: number,
    headers: Array<[string, string]>,
    protocol?: string,
  ): Interruption | null
  processResponseBody(body: Uint8Array): Interruption | null
  processLogging(): void
  /** The interruption, once one happened. */
  interruption(): Interruption | null
  matchedRules(): MatchedRule[]
  /** Inbound anomaly score (CRS's tx.anomaly_score, else the sum of the per-paranoia-level scores). */
  anomalyScore(): number
  /** Reads a TX variable (tests, diagnostics). */
  txVar(name: string): string | undefined
}

export interface Waf {
  readonly ruleSet: RuleSet
  newTransaction(req: WafRequest): Transaction
  /** Forgets what this WAF remembers about values seen and returns it to the shared budget (the WAF still works). */
  release(): void
}

export interface Verdict {
  action: 'block' | 'allow'
  score: number
  /** Ids of matched rules that log (ModSecurity would have written them to its log), in order, unique. */
  rules: number[]
  interruption: Interruption | null
  matched: MatchedRule[]
}

const MAX_DATA = 200
const EMPTY_ENTRIES: readonly Entry[] = Object.freeze([])
/** Marks a value too long for the MissMemo in a transaction's record table. */
const NOT_KEPT: MissRecord = []
/** `&VAR` of 0 to 63 values as the strings the operators read. */
const COUNTS: readonly string[] = Array.from({ length: 64 }, (_, n) => String(n))
/** TX.0 to TX.9, where `capture` puts a match and its groups. */
const CAPTURE_KEYS: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
const SECRET_NAME = /pass(?:wd|word)?|secret|token|api[-_]?key|auth|cookie|session|csrf/i

interface RemovedTarget {
  applies: (rule: Rule) => boolean
  selector: VariableSelector
}

function isRemovedValue(list: readonly RemovedValue[], variable: string, e: Entry): boolean {
  for (const rv of list) {
    if (rv.variable === variable && rv.value === e.value && rv.key === e.key.toLowerCase()) return true
  }
  return false
}

/** One value (variable, key, raw value) that ctl removed from some rules' targets. */
interface RemovedValue {
  applies: (rule: Rule) => boolean
  variable: string
  key: string
  value: string
}

interface WafShared {
  ruleSet: RuleSet
  store: CollectionStore
  now: () => number
  operatorCache: Map<CompiledOperator, Map<string, Operator>>
  programs: CompiledPhases
  seq: number
}

function bytesOf(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1')
}

function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
}

function truncate(s: string): string {
  return s.length > MAX_DATA ? s.slice(0, MAX_DATA) : s
}

function emptyData(req: WafRequest, id: string, now: () => number): TransactionData {
  return {
    method: req.method,
    uriRaw: req.uri,
    uri: req.uri,
    filename: '',
    basename: '',
    queryString: '',
    protocol: req.protocol,
    requestLine: '',
    requestHeaders: [],
    cookies: [],
    argsGet: [],
    argsPost: [],
    argsDecoded: [],
    body: '',
    bodyLength: 0,
    rawBody: '',
    files: [],
    filesNames: [],
    filesSizes: [],
    filesCombinedSize: 0,
    filesTmpContent: [],
    multipartFlags: new Map(),
    multipartPartHeaders: [],
    multipartFilename: '',
    multipartName: '',
    reqbodyError: 0,
    reqbodyErrorMsg: '',
    reqbodyProcessor: '',
    reqbodyProcessorError: 0,
    xmlTexts: [],
    xmlAttributes: [],
    responseStatus: '',
    responseProtocol: '',
    responseHeaders: [],
    responseBody: '',
    responseContentType: '',
    responseContentLength: '',
    statusLine: '',
    remoteAddr: req.remoteAddr,
    remotePort: String(req.remotePort ?? 0),
    remoteHost: req.remoteAddr,
    serverName: req.serverName ?? '',
    serverAddr: req.serverAddr ?? '',
    serverPort: String(req.serverPort ?? 0),
    uniqueId: id,
    authType: '',
    remoteUser: '',
    startTime: now(),
    now,
    matchedVar: '',
    matchedVarName: '',
    matchedPairs: [],
    matchedCount: 0,
    highestSeverity: '255',
    collections: new Map<string, KeyedCollection>([['tx', new Map<string, Entry>()]]),
    env: [],
  }
}

/** Appends the decoded view of every Base64-encoded value of `args` to `out`, under the same name. */
function addBase64Views(args: readonly Entry[], out: Entry[]): void {
  for (const a of args) {
    const decoded = base64View(a.value)
    if (decoded !== undefined) out.push({ key: a.key, value: decoded })
  }
}

const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/

/**
 * Appends the URL-decoded view of every value of `args` that holds a `%XX` escape. Values of a JSON or XML body
 * are not URL-decoded by their parser, yet API clients encode fields and applications decode them: an injection
 * sent URL-encoded there reached no rule in the form the application will use. A form's or query's values are
 * decoded once already and get no view. Multipart fields get none either: on GoTestWAF's benign set the view
 * turned two legitimate uploads into blocks (FPR 2.8 % → 4.3 %) for one more attack caught.
 */
function addUrlDecodedViews(args: readonly Entry[], out: Entry[]): void {
  for (const a of args) {
    if (!PERCENT_ESCAPE.test(a.value)) continue
    const decoded = urlDecodeNonStrict(a.value)
    if (decoded !== a.value) out.push({ key: a.key, value: decoded })
  }
}

/** Custom headers that proxies and browsers set, not the application's inputs. */
const INFRA_HEADERS = new Set([
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'x-request-id',
  'x-correlation-id',
  'x-amzn-trace-id',
  'x-requested-with',
  'x-csrf-token',
  'x-xsrf-token',
  'x-client-data',
])

/**
 * Custom request headers (`X-…`) are application inputs (API versions, tenant ids, search
 * filters: Log4Shell's X-Api-Version), yet CRS reads only a few named headers. Their values are
 * offered to the rules in ARGS under the header's name, with their Base64 views.
 */
function addHeaderViews(headers: ReadonlyArray<readonly [string, string]>, out: Entry[]): void {
  for (const [name, value] of headers) {
    if (name.length < 3 || (name.charCodeAt(0) | 0x20) !== 0x78 || name[1] !== '-') continue
    const key = name.toLowerCase()
    if (INFRA_HEADERS.has(key) || value === '') continue
    out.push({ key, value })
    const decoded = base64View(value)
    if (decoded !== undefined) out.push({ key, value: decoded })
  }
}

/** Path segments that only name things (ids, slugs, file names): nothing an injection needs. */
const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]*$/

/**
 * Path parameters: REST routes hand path segments to the application as arguments (`/users/:id`),
 * and CRS reads the path with a handful of rules only. A segment with characters other than letters,
 * digits and `._~-` is offered to the rules in ARGS (name `REQUEST_FILENAME`), together with the rest
 * of the path from the first such segment (a payload may contain `/`); so is the decoded view of a
 * Base64-encoded segment. Plain paths add nothing.
 */
function addPathViews(path: string, out: Entry[]): void {
  const segments = path.split('/')
  let first = -1
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    const decoded = base64View(s)
    if (decoded !== undefined) out.push({ key: 'REQUEST_FILENAME', value: decoded })
    else if (!PLAIN_SEGMENT.test(s)) {
      if (first < 0) first = i
      out.push({ key: 'REQUEST_FILENAME', value: s })
    }
  }
  if (first >= 0 && first < segments.length - 1) {
    out.push({ key: 'REQUEST_FILENAME', value: segments.slice(first).join('/') })
  }
}

/** Splits the Cookie header the way ModSecurity's version-0 cookie parser does. */
function parseCookies(header: string, out: Entry[], limit: number): void {
  for (const piece of header.split(';')) {
    const p = piece.replace(/^[ \t]+/, '')
    if (p === '') continue
    // Past the arguments limit nothing more is kept; rule 200007 refuses such a request (a payload
    // hidden behind a thousand decoy cookies would otherwise be seen by no rule).
    if (out.length >= limit) return
    const eq = p.indexOf('=')
    if (eq < 0) out.push({ key: p, value: '' })
    else out.push({ key: p.slice(0, eq), value: p.slice(eq + 1) })
  }
}

class Tx implements Transaction, ActionTx {
  readonly id: string
  readonly data: TransactionData
  /** TX, read by ~150 rules per request: `data.collections.get('tx')` (initCollection keeps them in step). */
  #tx: KeyedCollection
  readonly #shared: WafShared
  readonly #req: WafRequest
  readonly #matched: MatchedRule[] = []
  readonly #transformCache: Array<Map<string, string> | undefined>
  #interruption: Interruption | null = null
  #mode: 'On' | 'Off' | 'DetectionOnly'
  #removedRanges: Array<[number, number]> = []
  #removedTags: RegExp[] = []
  #removedMsgs: RegExp[] = []
  #removedTargets: RemovedTarget[] = []
  /** Targets removed from single rules, by rule id (the common case: one lookup per rule). */
  #removedTargetsById = new Map<number, VariableSelector[]>()
  /** Values removed from single rules, by rule id (the common case: one lookup per rule). */
  #removedValuesById = new Map<number, RemovedValue[]>()
  /** Values removed from ranges of rules. */
  #removedValues: RemovedValue[] = []
  #bodyAccess: boolean
  #forceBodyVar = false
  #allowAll = false
  #allowRequest = false
  /** Folded outcomes hold until a ctl changes which rules or targets run, or the engine's mode. */
  #foldsHold = true
  #phasesDone = 0
  #bound: Array<[string, string, CollectionRecord]> = []
  /** Non-volatile variables, computed once per phase. */
  readonly #varCache = new Map<VariableDefinition, readonly Entry[]>()
  readonly #keyIndex = new Map<VariableDefinition, Map<string, Entry[]>>()
  /** MissMemo records of the values this transaction has tested. */
  readonly #missRecords = new Map<string, MissRecord>()
  /** `XML:/*` as entries, with the texts they were made from. */
  #xmlTexts: [readonly string[], readonly Entry[]] | undefined
  /** Per list slot (TargetStep.slot), the phase's list: what #entries read for it. */
  readonly #lists: Array<readonly Entry[] | undefined>
  /** Per list slot, the misses common to all the list's values (see TargetStep.phaseList). */
  readonly #listMisses: Array<MissRecord | undefined>
  /** Per list slot, the MissMemo records of the list's values, in its order (undefined: not kept). */
  readonly #listRecords: Array<Array<MissRecord | undefined> | undefined>

  constructor(shared: WafShared, req: WafRequest) {
    this.#shared = shared
    this.#req = req
    this.id = req.id ?? `${shared.now().toString(36)}-${(shared.seq++).toString(36)}`
    this.data = emptyData(req, this.id, shared.now)
    this.#tx = this.data.collections.get('tx')!
    this.#mode = shared.ruleSet.config.ruleEngine
    this.#bodyAccess = shared.ruleSet.config.requestBodyAccess
    this.#transformCache = new Array<Map<string, string> | undefined>(shared.ruleSet.transformChains)
    this.#lists = new Array<readonly Entry[] | undefined>(shared.programs.slots).fill(undefined)
    this.#listMisses = new Array<MissRecord | undefined>(shared.programs.slots).fill(undefined)
    this.#listRecords = new Array<Array<MissRecord | undefined> | undefined>(shared.programs.slots).fill(
      undefined,
    )
  }

  // ---- ActionTx ----

  expand(macro: Macro, rule: ActionRuleInfo, depth = 0): string {
    if (macro.length === 1 && typeof macro[0] === 'string') return macro[0]
    let out = ''
    for (const part of macro) {
      if (typeof part === 'string') out += part
      else out += this.#resolveRef(part.variable, part.key, rule, depth)
    }
    return out
  }

  #resolveRef(variable: string, key: string | undefined, rule: ActionRuleInfo, depth: number): string {
    if (variable === 'RULE') {
      switch (key) {
        case 'id':
          return String(rule.id)
        case 'msg':
          return rule.msg && depth < 2 ? this.expand(rule.msg, rule, depth + 1) : ''
        case 'logdata':
          return rule.logdata && depth < 2 ? this.expand(rule.logdata, rule, depth + 1) : ''
        case 'severity':
          return rule.severity === undefined ? '' : String(rule.severity)
        case 'ver':
          return rule.ver ?? ''
        case 'rev':
          return rule.rev ?? ''
        case 'tags':
          return rule.tags.join(' ')
        default:
          return ''
      }
    }
    if (variable === 'MATCHED_VAR') return this.data.matchedVar
    if (variable === 'MATCHED_VAR_NAME') return this.data.matchedVarName
    const col = this.data.collections.get(variable.toLowerCase())
    if (col && key !== undefined) return col.get(key)?.value ?? ''
    const def = findVariable(variable)
    if (!def) return ''
    const entries = key === undefined ? def.get(this.data) : this.#byKey(def, key)
    return entries[0]?.value ?? ''
  }

  #byKey(def: VariableDefinition, key: string): readonly Entry[] {
    if (def.getKey) return def.getKey(this.data, key)
    if (def.volatile) return def.get(this.data).filter((e) => e.key.toLowerCase() === key)
    // Index non-volatile collections by lower-case key once per phase (REQUEST_HEADERS:User-Agent...).
    let index = this.#keyIndex.get(def)
    if (index === undefined) {
      index = new Map()
      for (const e of def.get(this.data)) {
        const k = e.key.toLowerCase()
        const list = index.get(k)
        if (list) list.push(e)
        else index.set(k, [e])
      }
      this.#keyIndex.set(def, index)
    }
    return index.get(key) ?? EMPTY_ENTRIES
  }

  setVar(collection: string, key: string, op: '=' | '+' | '-' | '!', value: string): void {
    const col = this.data.collections.get(collection)
    if (!col) return // ModSecurity ignores setvar on a collection that was never initialised
    if (op === '!') {
      col.delete(key)
      return
    }
    let v = value
    if (op === '+' || op === '-') {
      const current = toInt(col.get(key)?.value)
      const delta = toInt(value)
      v = String(op === '+' ? current + delta : current - delta)
    }
    col.set(key, { key, value: v })
  }

  expireVar(collection: string, key: string, seconds: number): void {
    for (const [name, , record] of this.#bound) {
      if (name === collection) record.expiries.set(key, this.#shared.now() + seconds * 1000)
    }
  }

  initCollection(collection: string, key: string): void {
    if (this.data.collections.has(collection) && collection !== 'tx') {
      return // ModSecurity initialises a collection once per transaction
    }
    const record = this.#shared.store.acquire(
      collection,
      key,
      this.#shared.now(),
      this.#shared.ruleSet.config.collectionTimeout,
    )
    this.#bound.push([collection, key, record])
    this.data.collections.set(collection, record.vars)
    if (collection === 'tx') this.#tx = record.vars
  }

  ctl(c: CtlCommand): void {
    // Removals and ruleEngine: see fold.ts. Folded rules read only TX, so removing one request
    // value of another variable leaves them as they are.
    // Removing a target other than TX leaves them as they are too (see the target removals below).
    if (
      c.kind.startsWith('rule') &&
      c.kind !== 'ruleRemoveMatchedValueById' &&
      !c.kind.startsWith('ruleRemoveTarget')
    )
      this.#foldsHold = false
    switch (c.kind) {
      case 'ruleEngine':
        this.#mode = c.mode
        return
      case 'ruleRemoveById':
        this.#removedRanges.push(...c.ranges)
        return
      case 'ruleRemoveByTag':
        this.#removedTags.push(c.pattern)
        return
      case 'ruleRemoveByMsg':
        this.#removedMsgs.push(c.pattern)
        return
      case 'ruleRemoveTargetById':
      case 'ruleRemoveTargetByTag':
      case 'ruleRemoveTargetByMsg': {
        let selector: VariableSelector | undefined
        try {
          selector = parseSelectors(c.target, (n) => findVariable(n) !== undefined)[0]
        } catch {
          return // an invalid target in a ctl cannot exclude anything
        }
        if (!selector) {
          this.#foldsHold = false
          return
        }
        if (selector.variable === 'TX') this.#foldsHold = false
        if (c.kind === 'ruleRemoveTargetById' && c.ranges.every(([a, b]) => a === b)) {
          // Single ids (every Palisade and CRS exclusion: `ctl:ruleRemoveTargetById=942100;ARGS:x`): looked up
          // by the rule's id, not tested against each rule of the rest of the request.
          for (const [id] of c.ranges) {
            const list = this.#removedTargetsById.get(id)
            if (list === undefined) this.#removedTargetsById.set(id, [selector])
            else list.push(selector)
          }
          return
        }
        const applies =
          c.kind === 'ruleRemoveTargetById'
            ? (r: Rule) => c.ranges.some(([a, b]) => r.id >= a && r.id <= b)
            : c.kind === 'ruleRemoveTargetByTag'
              ? (r: Rule) => r.tags.some((t) => c.pattern.test(t))
              : (r: Rule) => c.pattern.test(this.#msgText(r))
        this.#removedTargets.push({ applies, selector })
        return
      }
      case 'ruleRemoveMatchedValueById': {
        const name = this.data.matchedVarName
        const colon = name.indexOf(':')
        if (colon <= 0) return
        if (name.slice(0, colon) === 'TX') this.#foldsHold = false
        const variable = name.slice(0, colon)
        const key = name.slice(colon + 1).toLowerCase()
        const value = this.data.matchedVar
        for (const [a, b] of c.ranges) {
          const rv: RemovedValue = { applies: (r: Rule) => r.id >= a && r.id <= b, variable, key, value }
          if (a !== b) {
            this.#removedValues.push(rv)
            continue
          }
          const list = this.#removedValuesById.get(a)
          if (list === undefined) this.#removedValuesById.set(a, [rv])
          else list.push(rv)
        }
        return
      }
      case 'requestBodyProcessor':
        this.data.reqbodyProcessor = c.processor
        return
      case 'requestBodyAccess':
        this.#bodyAccess = c.on
        return
      case 'forceRequestBodyVariable':
        this.#forceBodyVar = c.on
        return
      case 'ignored':
        return
    }
  }

  #msgText(r: Rule): string {
    return r.msg ? r.msg.map((p) => (typeof p === 'string' ? p : '')).join('') : ''
  }

  // ---- phases ----

  processRequestHeaders(): Interruption | null {
    if (this.#phasesDone >= 1) return this.#interruption
    this.#populateRequest()
    return this.#runPhase(1)
  }

  processRequestBody(): Interruption | null {
    if (this.#phasesDone < 1) this.processRequestHeaders()
    if (this.#phasesDone >= 2 || this.#interruption) return this.#interruption
    const limited = this.#populateBody()
    if (limited) {
      this.#phasesDone = 2
      return limited
    }
    return this.#runPhase(2)
  }

  processResponseHeaders(
    status: number,
    headers: Array<[string, string]>,
    protocol = 'HTTP/1.1',
  ): Interruption | null {
    if (this.#phasesDone < 2) this.processRequestBody()
    if (this.#phasesDone >= 3 || this.#interruption) return this.#interruption
    const d = this.data
    d.responseStatus = String(status)
    d.responseProtocol = protocol
    d.statusLine = `${protocol} ${status}`
    d.responseHeaders = headers.map(([key, value]) => ({ key, value }))
    for (const [k, v] of headers) {
      const lk = k.toLowerCase()
      if (lk === 'content-type') d.responseContentType = v
      else if (lk === 'content-length') d.responseContentLength = v
    }
    return this.#runPhase(3)
  }

  processResponseBody(body: Uint8Array): Interruption | null {
    if (this.#phasesDone < 3) return this.#interruption
    if (this.#phasesDone >= 4 || this.#interruption) return this.#interruption
    const cfg = this.#shared.ruleSet.config
    const mime = this.data.responseContentType.split(';')[0]!.trim().toLowerCase()
    if (cfg.responseBodyAccess && cfg.responseBodyMimeTypes.includes(mime)) {
      if (body.byteLength > cfg.responseBodyLimit && cfg.responseBodyLimitAction === 'Reject') {
        return this.#engineInterruption(4, 500, 'response body larger than the inspection limit')
      }
      this.data.responseBody = bytesOf(body.subarray(0, cfg.responseBodyLimit))
    }
    return this.#runPhase(4)
  }

  processLogging(): void {
    if (this.#phasesDone >= 5) return
    const saved = this.#interruption
    // Logging rules run even after an interruption, but can never interrupt.
    this.#runPhase(5)
    this.#interruption = saved
    this.#phasesDone = 5
    const now = this.#shared.now()
    for (const [c, k, r] of this.#bound) this.#shared.store.release(c, k, r, now)
    this.#bound = []
  }

  interruption(): Interruption | null {
    return this.#interruption
  }

  matchedRules(): MatchedRule[] {
    return [...this.#matched]
  }

  anomalyScore(): number {
    const tx = this.data.collections.get('tx')!
    const total = tx.get('anomaly_score')
    if (total !== undefined && toInt(total.value) > 0) return toInt(total.value)
    let sum = 0
    for (let pl = 1; pl <= 4; pl++) sum += toInt(tx.get(`anomaly_score_pl${pl}`)?.value)
    return sum
  }

  txVar(name: string): string | undefined {
    return this.data.collections.get('tx')!.get(name.toLowerCase())?.value
  }

  // ---- request data ----

  #populateRequest(): void {
    const d = this.data
    const req = this.#req
    let uri = req.uri
    const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(uri)
    if (abs) uri = uri.slice(abs[0].length) || '/'
    d.uri = uri
    const q = uri.indexOf('?')
    const path = q < 0 ? uri : uri.slice(0, q)
    const hash = path.indexOf('#')
    // As Apache gives ModSecurity: the path is percent-decoded ('+' stays), the query is not.
    d.filename = percentDecode(hash < 0 ? path : path.slice(0, hash))
    d.basename = d.filename.slice(d.filename.lastIndexOf('/') + 1)
    if (q >= 0) {
      const query = uri.slice(q + 1)
      const h = query.indexOf('#')
      d.queryString = h < 0 ? query : query.slice(0, h)
    }
    d.requestLine = `${req.method} ${req.uri} ${req.protocol}`
    d.requestHeaders = req.headers.map(([key, value]) => ({ key, value }))
    let contentType: string | undefined
    for (const [k, v] of req.headers) {
      const lk = k.toLowerCase()
      if (lk === 'cookie') parseCookies(v, d.cookies, this.#shared.ruleSet.config.argumentsLimit)
      else if (lk === 'content-type' && contentType === undefined) contentType = v
      else if (lk === 'authorization') d.authType = v.split(' ')[0] ?? ''
    }
    if (d.queryString !== '') {
      const limit = this.#shared.ruleSet.config.argumentsLimit
      d.argsGet = parseUrlEncoded(d.queryString, limit).pairs
      d.argsGet = expandGraphql(d.argsGet, limit) ?? d.argsGet
      addBase64Views(d.argsGet, d.argsDecoded)
    }
    addPathViews(d.filename, d.argsDecoded)
    addHeaderViews(req.headers, d.argsDecoded)
    const ct = (contentType ?? '').toLowerCase()
    // text/plain is parsed as a form, as ModSecurity v3 does: a body no processor reads is seen
    // only through REQUEST_BODY, which most CRS rules do not inspect (JSON sent as text/plain).
    if (ct.startsWith('application/x-www-form-urlencoded') || ct.startsWith('text/plain'))
      d.reqbodyProcessor = 'URLENCODED'
    else if (ct.startsWith('application/graphql')) d.reqbodyProcessor = 'GRAPHQL'
    else if (ct.startsWith('text/csv')) d.reqbodyProcessor = 'CSV'
    else if (ct.startsWith('multipart/form-data')) d.reqbodyProcessor = 'MULTIPART'
  }

  #contentType(): string {
    for (const [k, v] of this.#req.headers) if (k.toLowerCase() === 'content-type') return v
    return ''
  }

  #populateBody(): Interruption | null {
    const d = this.data
    const cfg = this.#shared.ruleSet.config
    const raw = this.#req.body
    if (!raw || raw.byteLength === 0 || !this.#bodyAccess) return null
    d.bodyLength = raw.byteLength
    const processor = d.reqbodyProcessor
    const limit =
      processor === 'MULTIPART'
        ? cfg.requestBodyLimit
        : Math.min(cfg.requestBodyLimit, cfg.requestBodyNoFilesLimit)
    let bytes = raw
    if (raw.byteLength > limit) {
      if (cfg.requestBodyLimitAction === 'Reject') {
        return this.#engineInterruption(2, 413, `request body larger than the limit (${limit} bytes)`)
      }
      bytes = raw.subarray(0, limit)
    }
    const body = bytesOf(bytes)
    d.rawBody = body
    const error = (msg: string): void => {
      d.reqbodyError = 1
      d.reqbodyProcessorError = 1
      d.reqbodyErrorMsg = msg
    }
    if (processor === 'URLENCODED' || this.#forceBodyVar || processor === '') d.body = body
    const argsBefore = d.argsPost
    switch (processor) {
      case 'URLENCODED': {
        d.argsPost = parseUrlEncoded(body, cfg.argumentsLimit).pairs
        break
      }
      case 'MULTIPART': {
        const r = parseMultipart(this.#contentType(), body, { argsLimit: cfg.argumentsLimit, fileLimit: 100 })
        // In ARGS by path, but not in ARGS_NAMES: CRS reads element and attribute names as markup,
        // not as parameter names (its regression tests expect 944100 not to fire on <java.lang.Runtime>).
        d.argsDecoded.push(...r.args)
        addBase64Views(r.args, d.argsDecoded)
        // Text fields only (r.args holds no file part): see addUrlDecodedViews.
        addUrlDecodedViews(r.args, d.argsDecoded)
        d.files = r.files
        d.filesNames = r.files.map((f) => ({ key: f.key, value: f.key }))
        d.filesSizes = r.fileSizes
        d.filesCombinedSize = r.fileSizes.reduce((n, f) => n + toInt(f.value), 0)
        d.multipartFlags = r.flags
        for (const p of r.parts)
          for (const h of p.headers) d.multipartPartHeaders.push({ key: p.name, value: h })
        const lastFile = r.parts.filter((p) => p.filename !== undefined).pop()
        d.multipartFilename = lastFile?.filename ?? ''
        d.multipartName = r.parts[r.parts.length - 1]?.name ?? ''
        if (r.error !== undefined) error(r.error)
        if (strictError(r)) r.flags.set('MULTIPART_STRICT_ERROR', '1')
        break
      }
      case 'JSON': {
        const r = parseJson(body, {
          depthLimit: cfg.requestBodyJsonDepthLimit,
          argsLimit: cfg.argumentsLimit,
          lines: NDJSON_TYPE.test(this.#contentType()),
        })
        d.argsPost = r.pairs
        addUrlDecodedViews(r.pairs, d.argsDecoded)
        if (r.error !== undefined) error(r.error)
        break
      }
      case 'CSV': {
        const r = parseCsv(body, { argsLimit: cfg.argumentsLimit })
        d.argsPost = r.pairs
        if (r.error !== undefined) error(r.error)
        break
      }
      case 'GRAPHQL': {
        // A document that does not parse (or has a comment) is inspected as text, as one argument.
        const flat = graphqlArgs(body, 'graphql', cfg.argumentsLimit)
        const text = { key: 'graphql', value: body }
        d.argsPost = flat === undefined ? [text] : body.includes('#') ? [text, ...flat] : flat
        break
      }
      case 'XML': {
        const r = parseXml(body, {
          depthLimit: cfg.requestBodyJsonDepthLimit,
          attributesLimit: cfg.argumentsLimit,
        })
        d.xmlTexts = r.texts
        d.xmlAttributes = r.attributes
        // In ARGS by path, but not in ARGS_NAMES: CRS reads element and attribute names as markup,
        // not as parameter names (its regression tests expect 944100 not to fire on <java.lang.Runtime>).
        d.argsDecoded.push(...r.args)
        addBase64Views(r.args, d.argsDecoded)
        addUrlDecodedViews(r.args, d.argsDecoded)
        if (r.error !== undefined) error(r.error)
        break
      }
    }
    if (d.argsPost !== argsBefore) {
      d.argsPost = expandGraphql(d.argsPost, cfg.argumentsLimit) ?? d.argsPost
      addBase64Views(d.argsPost, d.argsDecoded)
    }
    return null
  }

  #engineInterruption(phase: Phase, status: number, message: string): Interruption | null {
    if (this.#mode !== 'On') return null
    this.#interruption = { action: 'deny', status, ruleId: 0, phase, message }
    return this.#interruption
  }

  // ---- rule evaluation ----

  #isRemoved(rule: Rule): boolean {
    for (const [a, b] of this.#removedRanges) if (rule.id >= a && rule.id <= b) return true
    if (this.#removedTags.length > 0) {
      for (const re of this.#removedTags) for (const t of rule.tags) if (re.test(t)) return true
    }
    if (this.#removedMsgs.length > 0) {
      const m = this.#msgText(rule)
      for (const re of this.#removedMsgs) if (re.test(m)) return true
    }
    return false
  }

  #runPhase(phase: Phase): Interruption | null {
    this.#phasesDone = phase
    this.#varCache.clear()
    this.#keyIndex.clear()
    this.#lists.fill(undefined)
    this.#listMisses.fill(undefined)
    this.#listRecords.fill(undefined)
    if (this.#mode === 'Off' || this.#allowAll) return this.#interruption
    if (this.#allowRequest && phase <= 2) return this.#interruption
    const program = this.#shared.programs.phases[phase]!
    const steps = program.steps
    const d = this.data
    let skip = 0
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]
      if (step === undefined) continue // a SecMarker
      if (skip > 0) {
        skip--
        continue
      }
      const rule = step.rule
      if (
        (this.#removedRanges.length > 0 || this.#removedTags.length > 0 || this.#removedMsgs.length > 0) &&
        this.#isRemoved(rule)
      ) {
        continue
      }
      d.matchedCount = 0
      let matched = false
      const fold = step.fold
      if (fold !== undefined && this.#foldsHold) {
        // The same outcome on every request (fold.ts): record its matches without evaluating.
        if (fold.length === 0) continue
        for (let h = 0; h < fold.length; h++) this.#recordEntries(step, fold[h]!.value, fold[h]!.name)
        matched = true
      } else {
        try {
          // Most rules have no chain: one call less.
          matched = step.next === undefined ? this.#evalRule(step) : this.#evalChain(step)
        } catch {
          matched = false // defensive: a faulty leaf must not take the edge down
        }
      }
      if (!matched) continue
      const interrupted = this.#onMatch(step, phase)
      if (interrupted) return this.#interruption
      if (this.#allowAll || (this.#allowRequest && phase <= 2)) return null
      if (rule.disruptive === 'allow' && rule.allowScope === 'phase' && this.#mode === 'On') return null
      if (rule.skip > 0) skip = rule.skip
      if (rule.skipAfter !== undefined) {
        const next = program.skipTo[i]!
        if (next < 0) return this.#interruption
        i = next
      }
    }
    return this.#interruption
  }

  #onMatch(step: RuleStep, phase: Phase): boolean {
    const rule = step.rule
    const d = this.data
    const disruptive =
      this.#mode === 'On' &&
      (rule.disruptive === 'deny' || rule.disruptive === 'drop' || rule.disruptive === 'redirect')
    if (rule.log || disruptive) {
      const name = d.matchedVarName
      const value = d.matchedVar
      const masked = SECRET_NAME.test(name) ? '***' : value
      this.#matched.push({
        id: rule.id,
        phase,
        msg: truncate(rule.msg ? this.expand(rule.msg, rule) : ''),
        logdata: truncate(rule.logdata ? this.#mask(this.expand(rule.logdata, rule), name) : ''),
        data: truncate(name === '' ? '' : `${name}: ${masked}`),
        tags: rule.tags,
        severity: rule.severity,
        log: rule.log,
        disruptive,
      })
    } else {
      // A nolog match is recorded by id only: nothing reads its texts, and CRS's ~120 flow-control
      // matches per request (paranoia-level skips, setvar initialisations) would expand them for nothing.
      this.#matched.push(step.quietMatch)
    }
    if (rule.severity !== undefined && rule.severity < toInt(d.highestSeverity))
      d.highestSeverity = String(rule.severity)
    if (this.#mode !== 'On') return false
    switch (rule.disruptive) {
      case 'deny':
      case 'drop':
        this.#interruption = {
          action: rule.disruptive,
          status: rule.status ?? 403,
          ruleId: rule.id,
          phase,
          message: rule.msg ? this.expand(rule.msg, rule) : `rule ${rule.id}`,
        }
        return true
      case 'redirect': {
        const status =
          rule.status !== undefined && [301, 302, 303, 307, 308].includes(rule.status) ? rule.status : 302
        this.#interruption = {
          action: 'redirect',
          status,
          ruleId: rule.id,
          phase,
          url: rule.redirectUrl ? this.expand(rule.redirectUrl, rule) : '/',
          message: rule.msg ? this.expand(rule.msg, rule) : `rule ${rule.id}`,
        }
        return true
      }
      case 'allow':
        if (rule.allowScope === 'all') this.#allowAll = true
        else if (rule.allowScope === 'request') this.#allowRequest = true
        return false
      default:
        return false
    }
  }

  #mask(text: string, name: string): string {
    return SECRET_NAME.test(name) && this.data.matchedVar !== ''
      ? text.split(this.data.matchedVar).join('***')
      : text
  }

  #evalChain(first: RuleStep): boolean {
    let step: RuleStep | undefined = first
    while (step) {
      if (!this.#evalRule(step)) return false
      step = step.next
    }
    return true
  }

  #xml(path: 0 | 1 | 2): readonly Entry[] {
    if (path === 1) return this.data.xmlAttributes
    if (path === 2) {
      // ~90 rules read XML:/* on every request; the texts only change when the body is parsed.
      const texts = this.data.xmlTexts
      if (texts.length === 0) return EMPTY_ENTRIES
      if (this.#xmlTexts?.[0] !== texts) this.#xmlTexts = [texts, texts.map((value) => ({ key: '', value }))]
      return this.#xmlTexts[1]
    }
    return EMPTY_ENTRIES
  }

  #operator(step: RuleStep): Operator | undefined {
    if (step.staticOperator !== undefined) return step.staticOperator
    const op = step.operator
    const param = this.expand(op.paramMacro!, step.rule)
    let cache = this.#shared.operatorCache.get(op)
    if (!cache) {
      cache = new Map()
      this.#shared.operatorCache.set(op, cache)
    }
    let fn = cache.get(param)
    if (!fn) {
      try {
        fn = op.compile(param)
      } catch {
        return undefined
      }
      if (cache.size > 256) cache.clear() // bounded: params come from request data in rare rule sets
      cache.set(param, fn)
    }
    return fn
  }

  /** The MissMemo record of a value, looked up in the rule set's memo once per transaction. */
  #missRecord(value: string): MissRecord | undefined {
    let record = this.#missRecords.get(value)
    if (record === undefined) {
      record = this.#shared.programs.misses.record(value) ?? NOT_KEPT
      this.#missRecords.set(value, record)
    }
    return record === NOT_KEPT ? undefined : record
  }

  /**
   * The rules that found nothing in any value of `list` (MissMemo bits set in every value's record), taken when
   * the phase first reads the list. A rule with its bit here skips the list without a look at each value (the
   * same browser headers and session cookies come with request after request).
   */
  #commonMisses(slot: number, list: readonly Entry[]): MissRecord {
    let common = this.#listMisses[slot]
    if (common === undefined) {
      const records = this.#recordsOf(slot, list)
      // One value (a header, a cookie by name): its own record, no copy. Bits only ever get set, and only for a
      // rule that found nothing in the value, so what the record learns later in the phase holds for the list too.
      let bits: MissRecord | undefined = records.length === 1 ? records[0] : undefined
      for (let k = 0; k < records.length && records.length > 1; k++) {
        const record = records[k]
        if (record !== undefined && bits === undefined) bits = record.slice()
        else if (record === undefined || !keepCommonMisses(bits!, record)) {
          bits = undefined
          break
        }
      }
      common = bits ?? NOT_KEPT
      this.#listMisses[slot] = common
    }
    return common
  }

  /** The MissMemo records of a list's values (#missRecord of each), kept for the phase by the list's slot. */
  #recordsOf(slot: number, list: readonly Entry[]): Array<MissRecord | undefined> {
    let records = this.#listRecords[slot]
    if (records === undefined) {
      records = new Array<MissRecord | undefined>(list.length)
      for (let k = 0; k < list.length; k++) records[k] = this.#missRecord(list[k]!.value)
      this.#listRecords[slot] = records
    }
    return records
  }

  #transform(step: RuleStep, value: string): string {
    const chain = step.transforms
    if (chain.length === 0) return value
    let cache = this.#transformCache[step.transformKey]
    if (cache === undefined) {
      cache = new Map()
      this.#transformCache[step.transformKey] = cache
    }
    let out = cache.get(value)
    if (out === undefined) {
      out = value
      for (let i = 0; i < chain.length; i++) out = chain[i]!(out)
      cache.set(value, out)
    }
    return out
  }

  #entries(target: TargetStep): readonly Entry[] {
    const slot = target.slot
    if (slot >= 0) {
      let list = this.#lists[slot]
      if (list === undefined) {
        list = this.#read(target)
        this.#lists[slot] = list
      }
      return list
    }
    return this.#read(target)
  }

  #read(target: TargetStep): readonly Entry[] {
    if (target.xml) return this.#xml(target.xmlPath)
    if (target.key !== undefined) {
      if (target.readKey !== undefined) return target.readKey(this.data, target.key)
      return this.#byKey(target.definition, target.key)
    }
    if (target.volatile) return target.read(this.data)
    let all = this.#varCache.get(target.definition)
    if (all === undefined) {
      all = target.read(this.data)
      this.#varCache.set(target.definition, all)
    }
    return all
  }

  #evalRule(step: RuleStep): boolean {
    const op = step.staticOperator ?? this.#operator(step)
    if (!op) return false
    if (!step.hasTargets) return this.#test(step, op, '', '', '', false)
    let runtimeExcludes: VariableSelector[] | undefined
    // A copy: a ctl of this very rule adds to the list for its next evaluation, not for the rest of this one.
    if (this.#removedTargetsById.size > 0) runtimeExcludes = this.#removedTargetsById.get(step.id)?.slice()
    if (this.#removedTargets.length > 0) {
      for (const rt of this.#removedTargets) {
        if (rt.applies(step.rule)) (runtimeExcludes ??= []).push(rt.selector)
      }
    }
    let valueExcludes: RemovedValue[] | undefined
    if (this.#removedValuesById.size > 0) valueExcludes = this.#removedValuesById.get(step.id)
    if (this.#removedValues.length > 0) {
      for (const rv of this.#removedValues) {
        if (rv.applies(step.rule)) (valueExcludes = valueExcludes ? [...valueExcludes] : []).push(rv)
      }
    }
    const targets = step.targets
    // A remembered miss means no match only for an operator that is not negated.
    const memoMiss = step.missBit >= 0 && !step.negated
    let any = false
    for (let t = 0; t < targets.length; t++) {
      const target = targets[t]!
      const filter = target.collection && (target.hasExcludes || runtimeExcludes !== undefined)
      if (target.keyedCollection !== undefined) {
        // `TX:key`, `&TX:key`: one lookup, no list (CRS reads ~150 of them per request).
        const col =
          target.keyedCollection === 'tx' ? this.#tx : this.data.collections.get(target.keyedCollection)
        const e = col?.get(target.key!)
        const present = e !== undefined && !(filter && this.#excluded(target, runtimeExcludes, e.key))
        if (target.count) {
          if (this.#test(step, op, present ? '1' : '0', target.variable, target.key!, true)) any = true
        } else if (present && this.#test(step, op, e.value, target.variable, e.key, true)) any = true
        continue
      }
      const entries = this.#entries(target) // before the selector's key regex
      const matches = target.keyMatches
      if (target.count) {
        let n = 0
        for (let k = 0; k < entries.length; k++) {
          const key = entries[k]!.key
          if (matches !== undefined && !matches(key)) continue
          if (!(filter && this.#excluded(target, runtimeExcludes, key))) n++
        }
        if (
          this.#test(
            step,
            op,
            n < COUNTS.length ? COUNTS[n]! : String(n),
            target.variable,
            target.key ?? '',
            target.key !== undefined,
          )
        )
          any = true
        continue
      }
      if (entries.length === 0) continue // no body, no query, no XML: most lists of most requests
      // Found nothing in any of these values before: nothing in the ones the selector keeps either.
      const slot = target.slot
      if (memoMiss && slot >= 0 && missed(this.#commonMisses(slot, entries), step.missBit)) continue
      // The values' records, looked up once per phase for all the rules that read the list.
      const records = slot >= 0 && step.missBit >= 0 ? this.#recordsOf(slot, entries) : undefined
      for (let k = 0; k < entries.length; k++) {
        const e = entries[k]!
        if (matches !== undefined && !matches(e.key)) continue
        if (filter && this.#excluded(target, runtimeExcludes, e.key)) continue
        if (valueExcludes !== undefined && isRemovedValue(valueExcludes, target.variable, e)) continue
        const record = records !== undefined ? records[k] : this.#recordFor(step, e.value)
        if (this.#testWith(step, op, e.value, target.variable, e.key, target.collection, record)) any = true
      }
    }
    return any
  }

  #excluded(target: TargetStep, runtime: VariableSelector[] | undefined, key: string): boolean {
    for (const covers of target.excludeTests) if (covers(key)) return true
    if (runtime) for (const x of runtime) if (selectorCovers(x, target.variable, key)) return true
    return false
  }

  /** The MissMemo record of `value` for `step`: undefined when the rule does not take part. */
  #recordFor(step: RuleStep, value: string): MissRecord | undefined {
    return step.missBit >= 0 ? this.#missRecord(value) : undefined
  }

  /** Transforms one value, runs the operator, and on a match does the match bookkeeping and effects. */
  #test(
    step: RuleStep,
    op: Operator,
    value: string,
    variable: string,
    key: string,
    collection: boolean,
  ): boolean {
    return this.#testWith(step, op, value, variable, key, collection, this.#recordFor(step, value))
  }

  /** #test with the value's MissMemo record looked up already (`#recordFor`). */
  #testWith(
    step: RuleStep,
    op: Operator,
    value: string,
    variable: string,
    key: string,
    collection: boolean,
    record: MissRecord | undefined,
  ): boolean {
    const negated = step.negated
    let captures: readonly string[] = []
    let hit = false
    const transforms = step.transforms
    const bit = step.missBit
    if (record !== undefined && missed(record, bit)) {
      hit = negated // the operator found nothing in this value before (MissMemo)
    } else if (step.multiMatch && transforms.length > 0) {
      let v = value
      let prev: string | undefined
      for (let i = 0; i <= transforms.length; i++) {
        if (i > 0) v = transforms[i - 1]!(v)
        if (v === prev) continue
        prev = v
        const m = op(v)
        if ((m !== null) !== negated) {
          hit = true
          captures = m?.captures ?? []
          break
        }
      }
      // Not negated (see RuleStep.missBit): no hit means every stage missed.
      if (!hit && record !== undefined) markMissed(record, bit)
    } else {
      const m = op(this.#transform(step, value))
      if (m === null && record !== undefined) markMissed(record, bit)
      hit = (m !== null) !== negated
      if (hit && m !== null && step.capture) captures = m.captures
    }
    if (!hit) return false
    if (step.capture && captures.length > 0) {
      const tx = this.#tx
      for (let i = 0; i < 10; i++) {
        const c = captures[i]
        const key = CAPTURE_KEYS[i]!
        if (c === undefined) tx.delete(key)
        else tx.set(key, { key, value: c })
      }
    }
    this.#recordHit(step, value, variable === '' ? '' : collection ? `${variable}:${key}` : variable)
    return true
  }

  /** A rule matched `value` (of the variable named `name`): MATCHED_VAR(S) and the rule's effects. */
  #recordHit(step: RuleStep, value: string, name: string): void {
    this.#recordEntries(step, value, name)
  }

  /** #recordHit for a folded hit too. */
  #recordEntries(step: RuleStep, value: string, name: string): void {
    const d = this.data
    d.matchedVar = value
    d.matchedVarName = name
    const at = 2 * d.matchedCount++
    d.matchedPairs[at] = value
    d.matchedPairs[at + 1] = name
    const rule = step.rule
    for (const effect of step.effects) effect(this, rule)
  }
}

/**
 * Creates a WAF over a compiled rule set. Cheap to call; share one per rule set.
 * @example const tx = createWaf(ruleSet).newTransaction(req); const stop = tx.processRequestHeaders()
 */
export function createWaf(ruleSet: RuleSet, opts: WafOptions = {}): Waf {
  const shared: WafShared = {
    ruleSet,
    store: opts.store ?? createMemoryCollectionStore(),
    now: opts.now ?? Date.now,
    operatorCache: new Map(),
    programs: compilePhases(ruleSet, opts.fold !== false),
    seq: 0,
  }
  if (opts.memory) {
    shared.programs.misses.share(opts.memory)
    ruleSet.regexSet.share(opts.memory)
  }
  return Object.freeze({
    ruleSet,
    newTransaction: (req: WafRequest): Transaction => new Tx(shared, req),
    release(): void {
      shared.programs.misses.release()
      ruleSet.regexSet.release()
    },
  })
}

/**
 * Runs phases 1, 2 and 5 for a request and summarises the outcome.
 * @example evaluateRequest(waf, { method: 'GET', uri: '/?id=1%27%20or%201=1', protocol: 'HTTP/1.1', headers: [], remoteAddr: '::1' })
 */
export function evaluateRequest(waf: Waf, req: WafRequest): Verdict {
  const tx = waf.newTransaction(req)
  const interruption = tx.processRequestHeaders() ?? tx.processRequestBody()
  tx.processLogging()
  const matched = tx.matchedRules()
  const rules: number[] = []
  const seen = new Set<number>()
  for (const m of matched) {
    if (m.log && !seen.has(m.id)) {
      seen.add(m.id)
      rules.push(m.id)
    }
  }
  return { action: interruption ? 'block' : 'allow', score: tx.anomalyScore(), rules, interruption, matched }
}

/**
 * Every SecLang variable Palisade implements, keyed by upper-case name. Lookups are case-insensitive.
 */
import type { Entry, KeyedCollection, TransactionData, VariableDefinition } from './variable.js'

export type { Entry, KeyedCollection, TransactionData, VariableDefinition } from './variable.js'
export { parseSelectors, selectorCovers, SelectorSyntaxError } from './selector.js'

const EMPTY: readonly Entry[] = Object.freeze([])

function one(value: string): readonly Entry[] {
  return [{ key: '', value }]
}

/** MATCHED_VARS (or, with `names`, MATCHED_VARS_NAMES) as entries: `{ key: name, value }` / `{ key: name, value: name }`. */
function matchedEntries(d: TransactionData, names: boolean): Entry[] {
  const pairs = d.matchedPairs
  const out = new Array<Entry>(d.matchedCount)
  for (let i = 0; i < out.length; i++) {
    const name = pairs[2 * i + 1]!
    out[i] = { key: name, value: names ? name : pairs[2 * i]! }
  }
  return out
}

function scalar(name: string, read: (d: TransactionData) => string | undefined): VariableDefinition {
  return {
    name,
    collection: false,
    get(d) {
      const v = read(d)
      return v === undefined ? EMPTY : one(v)
    },
  }
}

function list(name: string, read: (d: TransactionData) => readonly Entry[]): VariableDefinition {
  return { name, collection: true, get: read }
}

/** `*_NAMES`: each key becomes a value (and its own key). */
function names(name: string, read: (d: TransactionData) => readonly Entry[]): VariableDefinition {
  return {
    name,
    collection: true,
    get(d) {
      return read(d).map((e) => ({ key: e.key, value: e.key }))
    },
  }
}

function keyed(name: string, collection: string): VariableDefinition {
  const all = (d: TransactionData): KeyedCollection | undefined => d.collections.get(collection)
  return {
    name,
    collection: true,
    volatile: true,
    keyedCollection: collection,
    get(d) {
      const c = all(d)
      return c === undefined ? EMPTY : [...c.values()]
    },
    getKey(d, key) {
      const e = all(d)?.get(key)
      return e === undefined ? EMPTY : [e]
    },
  }
}

function fullRequest(d: TransactionData): string {
  let head = d.requestLine + '\r\n'
  for (const h of d.requestHeaders) head += `${h.key}: ${h.value}\r\n`
  return `${head}\r\n${d.rawBody}`
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

function time(name: string, part: (t: Date) => string): VariableDefinition {
  return scalar(name, (d) => part(new Date(d.startTime)))
}

function combinedSize(d: TransactionData): string {
  let total = 0
  for (const e of d.argsGet) total += e.key.length + e.value.length
  for (const e of d.argsPost) total += e.key.length + e.value.length
  return String(total)
}

const ALL: VariableDefinition[] = [
  list('ARGS', (d) =>
    d.argsPost.length === 0 && d.argsDecoded.length === 0
      ? d.argsGet
      : [...d.argsGet, ...d.argsPost, ...d.argsDecoded],
  ),
  list('ARGS_GET', (d) => d.argsGet),
  list('ARGS_POST', (d) => d.argsPost),
  names('ARGS_NAMES', (d) => (d.argsPost.length === 0 ? d.argsGet : [...d.argsGet, ...d.argsPost])),
  names('ARGS_GET_NAMES', (d) => d.argsGet),
  names('ARGS_POST_NAMES', (d) => d.argsPost),
  scalar('ARGS_COMBINED_SIZE', combinedSize),
  list('REQUEST_HEADERS', (d) => d.requestHeaders),
  names('REQUEST_HEADERS_NAMES', (d) => d.requestHeaders),
  list('REQUEST_COOKIES', (d) => d.cookies),
  names('REQUEST_COOKIES_NAMES', (d) => d.cookies),
  scalar('REQUEST_URI', (d) => d.uri),
  scalar('REQUEST_URI_RAW', (d) => d.uriRaw),
  scalar('REQUEST_FILENAME', (d) => d.filename),
  scalar('REQUEST_BASENAME', (d) => d.basename),
  scalar('REQUEST_LINE', (d) => d.requestLine),
  scalar('REQUEST_METHOD', (d) => d.method),
  scalar('REQUEST_PROTOCOL', (d) => d.protocol),
  scalar('QUERY_STRING', (d) => d.queryString),
  scalar('REQUEST_BODY', (d) => (d.reqbodyProcessor === 'URLENCODED' || d.body !== '' ? d.body : undefined)),
  scalar('REQUEST_BODY_LENGTH', (d) => String(d.bodyLength)),
  scalar('FULL_REQUEST', fullRequest),
  scalar('FULL_REQUEST_LENGTH', (d) => String(fullRequest(d).length)),
  list('FILES', (d) => d.files),
  list('FILES_NAMES', (d) => d.filesNames),
  list('FILES_SIZES', (d) => d.filesSizes),
  list('FILES_TMPNAMES', () => EMPTY),
  list('FILES_TMP_CONTENT', (d) => d.filesTmpContent),
  scalar('FILES_COMBINED_SIZE', (d) => String(d.filesCombinedSize)),
  scalar('MULTIPART_FILENAME', (d) => d.multipartFilename),
  scalar('MULTIPART_NAME', (d) => d.multipartName),
  list('MULTIPART_PART_HEADERS', (d) => d.multipartPartHeaders),
  scalar('REQBODY_ERROR', (d) => String(d.reqbodyError)),
  scalar('REQBODY_ERROR_MSG', (d) => d.reqbodyErrorMsg),
  scalar('REQBODY_PROCESSOR', (d) => d.reqbodyProcessor),
  scalar('REQBODY_PROCESSOR_ERROR', (d) => String(d.reqbodyProcessorError)),
  scalar('INBOUND_DATA_ERROR', () => '0'),
  scalar('OUTBOUND_DATA_ERROR', () => '0'),
  // XML is resolved by the engine (the key is an XPath); listed so target lists accept it.
  list('XML', (d) => d.xmlTexts.map((value) => ({ key: '', value }))),
  // No GeoIP database: GEO is always empty (documented; @geoLookup never matches).
  list('GEO', () => EMPTY),
  keyed('TX', 'tx'),
  keyed('IP', 'ip'),
  keyed('GLOBAL', 'global'),
  keyed('RESOURCE', 'resource'),
  keyed('SESSION', 'session'),
  keyed('USER', 'user'),
  list('ENV', (d) => d.env),
  scalar('MATCHED_VAR', (d) => d.matchedVar),
  scalar('MATCHED_VAR_NAME', (d) => d.matchedVarName),
  // New lists: a rule over MATCHED_VARS adds to MATCHED_VARS while it iterates (a chain's second link).
  list('MATCHED_VARS', (d) => matchedEntries(d, false)),
  list('MATCHED_VARS_NAMES', (d) => matchedEntries(d, true)),
  scalar('HIGHEST_SEVERITY', (d) => d.highestSeverity),
  scalar('RESPONSE_STATUS', (d) => d.responseStatus),
  scalar('RESPONSE_PROTOCOL', (d) => d.responseProtocol),
  list('RESPONSE_HEADERS', (d) => d.responseHeaders),
  names('RESPONSE_HEADERS_NAMES', (d) => d.responseHeaders),
  scalar('RESPONSE_BODY', (d) => d.responseBody),
  scalar('RESPONSE_CONTENT_TYPE', (d) => d.responseContentType),
  scalar('RESPONSE_CONTENT_LENGTH', (d) => d.responseContentLength),
  scalar('STATUS_LINE', (d) => d.statusLine),
  scalar('REMOTE_ADDR', (d) => d.remoteAddr),
  scalar('REMOTE_HOST', (d) => d.remoteHost),
  scalar('REMOTE_PORT', (d) => d.remotePort),
  scalar('REMOTE_USER', (d) => d.remoteUser),
  scalar('SERVER_NAME', (d) => d.serverName),
  scalar('SERVER_ADDR', (d) => d.serverAddr),
  scalar('SERVER_PORT', (d) => d.serverPort),
  scalar('UNIQUE_ID', (d) => d.uniqueId),
  scalar('AUTH_TYPE', (d) => d.authType),
  // Milliseconds since the transaction started (ModSecurity 2).
  scalar('DURATION', (d) => String(Math.max(0, Math.round(d.now() - d.startTime)))),
  scalar('WEBSERVER_ERROR_LOG', () => undefined),
  scalar('URLENCODED_ERROR', (d) => d.multipartFlags.get('URLENCODED_ERROR') ?? '0'),
  time('TIME', (t) => `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`),
  time('TIME_DAY', (t) => String(t.getUTCDate())),
  time('TIME_EPOCH', (t) => String(Math.floor(t.getTime() / 1000))),
  time('TIME_HOUR', (t) => String(t.getUTCHours())),
  time('TIME_MIN', (t) => String(t.getUTCMinutes())),
  time('TIME_MON', (t) => String(t.getUTCMonth() + 1)),
  time('TIME_SEC', (t) => String(t.getUTCSeconds())),
  time('TIME_WDAY', (t) => String(t.getUTCDay())),
  time('TIME_YEAR', (t) => String(t.getUTCFullYear())),
]

for (const v of ALL) {
  if (/^(MATCHED_|DURATION|HIGHEST_SEVERITY|TIME)/.test(v.name)) Object.assign(v, { volatile: true })
}

const MULTIPART_FLAGS = [
  'MULTIPART_STRICT_ERROR',
  'MULTIPART_BOUNDARY_QUOTED',
  'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_DATA_BEFORE',
  'MULTIPART_DATA_AFTER',
  'MULTIPART_HEADER_FOLDING',
  'MULTIPART_LF_LINE',
  'MULTIPART_MISSING_SEMICOLON',
  'MULTIPART_INVALID_QUOTING',
  'MULTIPART_INVALID_PART',
  'MULTIPART_INVALID_HEADER_FOLDING',
  'MULTIPART_FILE_LIMIT_EXCEEDED',
  'MULTIPART_UNMATCHED_BOUNDARY',
  'MULTIPART_CRLF_LF_LINES',
]
for (const flag of MULTIPART_FLAGS) ALL.push(scalar(flag, (d) => d.multipartFlags.get(flag) ?? '0'))

/** The registry. */
export const VARIABLES: ReadonlyMap<string, VariableDefinition> = new Map(ALL.map((v) => [v.name, v]))

/** Finds a variable by name, case-insensitively. */
export function findVariable(name: string): VariableDefinition | undefined {
  return VARIABLES.get(name.toUpperCase())
}

export { MULTIPART_FLAGS }

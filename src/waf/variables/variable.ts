/**
 * Contract between the variable registry and the engine: the engine fills a `TransactionData`
 * as phases progress, and each variable reads from it.
 */

/** One value of a variable. `key` is empty for scalar variables; for collections it keeps the sent case. */
export interface Entry {
  readonly key: string
  readonly value: string
}

/** A keyed, case-insensitive, mutable collection (TX, IP, GLOBAL, ...). Keys are stored lower-case. */
export type KeyedCollection = Map<string, Entry>

export interface TransactionData {
  // Request line
  method: string
  uriRaw: string
  /** Path and query, after removing any scheme://host prefix (ModSecurity's REQUEST_URI is not decoded). */
  uri: string
  /** Path, without the query. */
  filename: string
  basename: string
  queryString: string
  protocol: string
  requestLine: string
  // Request headers and arguments
  requestHeaders: Entry[]
  cookies: Entry[]
  argsGet: Entry[]
  argsPost: Entry[]
  /**
   * Values Palisade derives for ARGS but not for ARGS_NAMES, ARGS_GET or ARGS_POST: decoded views of
   * Base64-encoded argument values and path segments (body/base64-view.ts, under the argument's own
   * name) and an XML body's elements and attributes named by path (`xml.order.item`, `xml.order.@id`).
   */
  argsDecoded: Entry[]
  // Body
  body: string
  bodyLength: number
  /** The body as received (up to the limit), whatever the processor; FULL_REQUEST reads it. */
  rawBody: string
  files: Entry[]
  filesNames: Entry[]
  filesSizes: Entry[]
  filesCombinedSize: number
  filesTmpContent: Entry[]
  multipartFlags: Map<string, string>
  multipartPartHeaders: Entry[]
  multipartFilename: string
  multipartName: string
  reqbodyError: number
  reqbodyErrorMsg: string
  reqbodyProcessor: string
  reqbodyProcessorError: number
  xmlTexts: string[]
  xmlAttributes: Entry[]
  // Response
  responseStatus: string
  responseProtocol: string
  responseHeaders: Entry[]
  responseBody: string
  responseContentType: string
  responseContentLength: string
  statusLine: string
  // Connection / server
  remoteAddr: string
  remotePort: string
  remoteHost: string
  serverName: string
  serverAddr: string
  serverPort: string
  uniqueId: string
  authType: string
  remoteUser: string
  /** Epoch milliseconds at transaction start (TIME*, DURATION). */
  startTime: number
  now: () => number
  // Matches
  matchedVar: string
  matchedVarName: string
  /**
   * What the current rule has matched so far, MATCHED_VARS and MATCHED_VARS_NAMES without their entries: value,
   * name, value, name ... in the first `2 * matchedCount` slots (the array is reused; later slots are stale).
   * The entries are made only when a rule reads those variables (a few CRS rules do; ~150 matches a request don't).
   */
  matchedPairs: string[]
  matchedCount: number
  highestSeverity: string
  /** Collections: tx, ip, global, resource, user, session (lower-case names). */
  collections: Map<string, KeyedCollection>
  /** Other scalar values the engine keeps (ARGS_COMBINED_SIZE etc. are computed). */
  env: Entry[]
}

export interface VariableDefinition {
  readonly name: string
  /** True when the variable has keys (`ARGS:foo` is meaningful). */
  readonly collection: boolean
  /** All values. Must not be mutated by the caller. */
  get(data: TransactionData): readonly Entry[]
  /**
   * True when the value can change while a phase runs (collections written by setvar, MATCHED_*,
   * clocks); the engine caches the others once per phase.
   */
  readonly volatile?: boolean
  /** Fast path for a literal key (lower-case); falls back to filtering `get`. */
  getKey?(data: TransactionData, key: string): readonly Entry[]
  /**
   * For TX, IP, GLOBAL and the other keyed collections: the collection's name in `TransactionData.collections`,
   * so the engine reads one key straight from it (`getKey` without the one-entry array).
   */
  readonly keyedCollection?: string
}

/**
 * Public value types of the WAF engine. A block is a value (`Interruption`), never an exception.
 *
 * Strings that carry request data (URI, header names and values) are byte strings: every code unit
 * is 0..255, which is what `node:http` gives for `req.url` and header values (latin1). Bodies are bytes.
 */

/** SecLang phases: 1 request headers, 2 request body, 3 response headers, 4 response body, 5 logging. */
export type Phase = 1 | 2 | 3 | 4 | 5

/** Injected I/O: waf/ never touches node:fs. */
export interface WafSource {
  /** Returns the text of a file (rule files, `.data` files). Throws when it cannot be read. */
  readFile(path: string): string
  /** Expands a glob (`rules/*.conf`) or lists a directory; returns paths in a stable (sorted) order. */
  listFiles(pattern: string): string[]
}

/** The request as the edge (or a test) saw it. */
export interface WafRequest {
  method: string
  /** Request target as sent on the request line (byte string), e.g. `/a/b.php?x=1`. */
  uri: string
  /** e.g. `HTTP/1.1` */
  protocol: string
  /** In arrival order; names as sent (byte strings). Duplicates are kept. */
  headers: Array<[string, string]>
  body?: Uint8Array
  remoteAddr: string
  remotePort?: number
  serverName?: string
  serverPort?: number
  serverAddr?: string
  /** Request id (UNIQUE_ID). Generated when absent. */
  id?: string
}

/** How a transaction was stopped. */
export interface Interruption {
  readonly action: 'deny' | 'drop' | 'redirect'
  /** HTTP status to answer with (deny: rule `status`, default 403; redirect: 302 unless set). */
  readonly status: number
  /** Id of the rule (chain starter) whose disruptive action fired; 0 for engine-level limits. */
  readonly ruleId: number
  readonly phase: Phase
  /** Redirect target (redirect only). */
  readonly url?: string
  /** Why, for logs: the rule's expanded msg, or an engine reason such as the body limit. */
  readonly message: string
}

/**
 * One matched rule (a whole chain counts once, under the chain starter's id). For a `nolog` rule that did
 * not interrupt, `msg`, `logdata` and `data` are empty: it is recorded by id only.
 */
export interface MatchedRule {
  readonly id: number
  readonly phase: Phase
  readonly msg: string
  readonly logdata: string
  /** Matched data: `<VAR_NAME>: <value>` truncated to 200 bytes, secrets masked. */
  readonly data: string
  readonly tags: readonly string[]
  /** ModSecurity numeric severity 0 (emergency) .. 7 (debug); undefined when the rule has none. */
  readonly severity: number | undefined
  /** False for `nolog` rules (ModSecurity writes no error-log line for them). */
  readonly log: boolean
  /** True when the rule's disruptive action interrupted the transaction. */
  readonly disruptive: boolean
}

/** Palisade's tunables for the CRS set-up (and the baseline rules). There is deliberately no on/off switch. */
export interface WafSettings {
  paranoia: 1 | 2 | 3 | 4
  /** Inbound anomaly threshold (CRS default 5). */
  inboundThreshold: number
  /** Outbound anomaly threshold (CRS default 4). */
  outboundThreshold: number
  /**
   * Rule exclusions. `ruleId` alone removes the rule(s) (`SecRuleRemoveById`); `tag` alone removes by tag;
   * with `target` (`ARGS:password`, `REQUEST_COOKIES:/^sess/`) only that variable is excluded from them.
   */
  exclusions: Array<{ ruleId?: number | [number, number]; tag?: string; target?: string }>
  allowedMethods?: string[]
  allowedContentTypes?: string[]
  /** Bytes of request body to buffer and inspect; larger bodies are rejected (413-style interruption). */
  requestBodyLimit?: number
  /** Run phases 3/4 (response headers and body). Default false. */
  responseInspection?: boolean
}

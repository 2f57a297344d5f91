/**
 * Palisade's WAF: an engine for ModSecurity's SecLang that runs the OWASP Core Rule Set unmodified.
 *
 * Pure: no file or network access (rule files come through an injected `WafSource`), and it never
 * throws on traffic — a block is an `Interruption` value. Rule loading throws `WafConfigError`.
 *
 * @example
 * ```ts
 * const waf = createWaf(crsRuleSet('/usr/share/modsecurity-crs', settings, source))
 * const verdict = evaluateRequest(waf, { method: 'GET', uri: '/?q=1', protocol: 'HTTP/1.1', headers: [], remoteAddr: '::1' })
 * if (verdict.interruption) reply(verdict.interruption.status)
 * ```
 */
export type { WafSource, WafRequest, WafSettings, Interruption, MatchedRule, Phase } from './engine/types.js'
export type { RuleSet } from './engine/rule.js'
export type { Waf, Transaction, Verdict } from './engine/waf.js'
export { createWaf, evaluateRequest } from './engine/waf.js'
export { loadRuleSet } from './seclang/load.js'
export type { LoadRuleSetOptions } from './seclang/load.js'
export { crsRuleSet, baselineRuleSet, crsSetupText, DEFAULT_WAF_SETTINGS } from './crs/setup.js'
export { PALISADE_RULES } from './crs/palisade-rules.js'
export { createMemoryCollectionStore } from './engine/collections.js'
export { MemoryBudget } from './memory-budget.js'
export type { CollectionStore } from './engine/collections.js'
export { WafConfigError } from './errors.js'
export {
  loadRegressionFiles,
  runFile as runRegressionFile,
  upstreamTestRuleSet,
  palisadeTestRuleSet,
  buildRequest as buildRegressionRequest,
} from './crs/regression.js'
export type { FileResult as RegressionFileResult, RegressionFile } from './crs/regression.js'

/**
 * Compiles SecLang into a `RuleSet`: directives, rules and chains, default actions, removals and
 * updates, Include with globs. Registries are passed in explicitly (no side-effect registration).
 * Every error is a WafConfigError naming the file, line and column.
 */
import type { ActionDefinition, RuleDraft } from '../actions/action.js'
import { emptyRuleDraft, findAction } from '../actions/index.js'
import { constantMacro, hasMacro, parseMacro } from '../actions/macro.js'
import type {
  CompiledOperator,
  Rule,
  RuleEntry,
  RuleSet,
  RuleSetConfig,
  VariableSelector,
} from '../engine/rule.js'
import type { Phase, WafSource } from '../engine/types.js'
import { WafConfigError } from '../errors.js'
import { findOperator } from '../operators/index.js'
import type { Operator, OperatorFactory } from '../operators/operator.js'
import { createRegexSetPrefilter } from '../operators/regex-set.js'
import { findTransform } from '../transforms/index.js'
import type { Transform } from '../transforms/transform.js'
import { findVariable, parseSelectors, SelectorSyntaxError } from '../variables/index.js'
import { lex, LexError, splitActions, type Directive, type Token } from './lexer.js'

export interface LoadRuleSetOptions {
  /** Rule files (or globs) to load, in order. */
  files?: string[]
  /** SecLang text to load (after `files`). */
  text?: string
  /** Name used for `text` in error messages and as its directory for relative paths. */
  textName?: string
  source: WafSource
  /** Registries; default to Palisade's own. */
  operators?: (name: string) => OperatorFactory | undefined
  transforms?: (name: string) => Transform | undefined
  actions?: (name: string) => ActionDefinition | undefined
}

/** Operators that need services Palisade does not run (DNS block lists, GeoIP): accepted, never match. */
const INERT_OPERATORS = new Set([
  'rbl',
  'geolookup',
  'inspectfile',
  'fuzzyhash',
  'verifycc',
  'verifyssn',
  'verifycpf',
])

const IGNORED_DIRECTIVES = new Set(
  [
    'SecAuditEngine',
    'SecAuditLog',
    'SecAuditLog2',
    'SecAuditLogDirMode',
    'SecAuditLogFileMode',
    'SecAuditLogFormat',
    'SecAuditLogParts',
    'SecAuditLogRelevantStatus',
    'SecAuditLogStorageDir',
    'SecAuditLogType',
    'SecDebugLog',
    'SecDebugLogLevel',
    'SecTmpDir',
    'SecDataDir',
    'SecUploadDir',
    'SecUploadKeepFiles',
    'SecUploadFileMode',
    'SecUploadFileLimit',
    'SecCookieFormat',
    'SecUnicodeMapFile',
    'SecStatusEngine',
    'SecPcreMatchLimit',
    'SecPcreMatchLimitRecursion',
    'SecRequestBodyInMemoryLimit',
    'SecServerSignature',
    'SecTmpSaveUploadedFiles',
    'SecHttpBlKey',
    'SecGeoLookupDb',
    'SecUnicodeCodePage',
    'SecConnEngine',
    'SecWebAppId',
    'SecSensorId',
    'SecHashEngine',
    'SecHashKey',
    'SecHashParam',
    'SecHashMethodRx',
    'SecHashMethodPm',
    'SecInterceptOnError',
    'SecStreamInBodyInspection',
    'SecStreamOutBodyInspection',
    'SecRuleInheritance',
    'SecDisableBackendCompression',
    'SecContentInjection',
    'SecXmlExternalEntity',
  ].map((d) => d.toLowerCase()),
)

export const DEFAULT_CONFIG: Readonly<RuleSetConfig> = Object.freeze<RuleSetConfig>({
  ruleEngine: 'On',
  requestBodyAccess: true,
  responseBodyAccess: false,
  requestBodyLimit: 13107200, // bytes (ModSecurity's default, 12.5 MiB)
  requestBodyNoFilesLimit: 131072, // bytes (128 KiB)
  requestBodyLimitAction: 'Reject',
  responseBodyLimit: 524288, // bytes (512 KiB)
  responseBodyLimitAction: 'ProcessPartial',
  responseBodyMimeTypes: ['text/plain', 'text/html'],
  collectionTimeout: 3600, // seconds
  componentSignatures: [],
  requestBodyJsonDepthLimit: 512, // levels
  argumentsLimit: 1000, // arguments per body
})

interface Defaults {
  disruptive: RuleDraft['disruptive']
  status: number | undefined
  log: boolean
  auditlog: boolean
  transforms: string[]
}

type MutableRule = { -readonly [K in keyof Rule]: Rule[K] }

function dirname(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i)
}

function resolvePath(base: string, path: string): string {
  if (path.startsWith('/')) return path
  return `${base}/${path}`.replace(/\/\.\//g, '/')
}

class Compiler {
  readonly config: RuleSetConfig = {
    ...DEFAULT_CONFIG,
    responseBodyMimeTypes: [...DEFAULT_CONFIG.responseBodyMimeTypes],
  }
  readonly rules: MutableRule[] = []
  readonly entries: Array<{ kind: 'rule'; rule: MutableRule } | { kind: 'marker'; name: string }> = []
  readonly warnings: string[] = []
  readonly defaults = new Map<Phase, Defaults>()
  readonly chainKeys = new Map<string, number>()
  readonly ids = new Set<number>()
  /** The last rule of an open chain (its `chain` flag is set and the next SecRule continues it). */
  chainTail: MutableRule | undefined
  chainTailFile = ''
  depth = 0
  /** One RE2 set over the rule set's `@rx` patterns: a value is scanned once for all of them. */
  readonly regexSet = createRegexSetPrefilter()

  constructor(
    private readonly source: WafSource,
    private readonly operators: (name: string) => OperatorFactory | undefined,
    private readonly transforms: (name: string) => Transform | undefined,
    private readonly actions: (name: string) => ActionDefinition | undefined,
  ) {}

  error(file: string, at: { line: number; column: number }, message: string, cause?: unknown): never {
    throw new WafConfigError('PAL_WAF_CONFIG', message, { file, line: at.line, column: at.column }, { cause })
  }

  loadFile(path: string): void {
    let text: string
    try {
      text = this.source.readFile(path)
    } catch (cause) {
      throw new WafConfigError(
        'PAL_WAF_FILE_UNREADABLE',
        `cannot read rule file '${path}'`,
        { file: path },
        { cause },
      )
    }
    this.loadText(text, path)
  }

  loadText(text: string, file: string): void {
    let directives: Directive[]
    try {
      directives = lex(text)
    } catch (e) {
      if (e instanceof LexError) this.error(file, e, e.message)
      throw e
    }
    for (const d of directives) this.directive(d, file)
  }

  arg(d: Directive, file: string, index: number, what: string): Token {
    const t = d.args[index]
    if (!t) this.error(file, d.name, `${d.name.text}: missing ${what}`)
    return t
  }

  onOff(d: Directive, file: string): boolean {
    const t = this.arg(d, file, 0, 'On or Off')
    const v = t.text.toLowerCase()
    if (v !== 'on' && v !== 'off') this.error(file, t, `${d.name.text} takes On or Off, got '${t.text}'`)
    return v === 'on'
  }

  int(d: Directive, file: string): number {
    const t = this.arg(d, file, 0, 'a number')
    if (!/^\d+$/.test(t.text))
      this.error(file, t, `${d.name.text} takes a non-negative integer, got '${t.text}'`)
    return Number(t.text)
  }

  directive(d: Directive, file: string): void {
    const name = d.name.text.toLowerCase()
    if (this.chainTail && name !== 'secrule') {
      this.error(
        file,
        d.name,
        `rule ${this.chainTail.id || ''} in ${this.chainTailFile} has 'chain' but no SecRule follows`,
      )
    }
    switch (name) {
      case 'secrule':
        return this.secRule(d, file)
      case 'secaction':
        return this.secAction(d, file)
      case 'secmarker': {
        const t = this.arg(d, file, 0, 'a marker name')
        this.entries.push({ kind: 'marker', name: t.text })
        return
      }
      case 'secdefaultaction':
        return this.secDefaultAction(d, file)
      case 'secruleengine': {
        const t = this.arg(d, file, 0, 'On, Off or DetectionOnly')
        const mode = ['On', 'Off', 'DetectionOnly'].find((m) => m.toLowerCase() === t.text.toLowerCase())
        if (!mode) this.error(file, t, `SecRuleEngine takes On, Off or DetectionOnly, got '${t.text}'`)
        this.config.ruleEngine = mode as RuleSetConfig['ruleEngine']
        return
      }
      case 'secrequestbodyaccess':
        this.config.requestBodyAccess = this.onOff(d, file)
        return
      case 'secresponsebodyaccess':
        this.config.responseBodyAccess = this.onOff(d, file)
        return
      case 'secrequestbodylimit':
        this.config.requestBodyLimit = this.int(d, file)
        return
      case 'secrequestbodynofileslimit':
        this.config.requestBodyNoFilesLimit = this.int(d, file)
        return
      case 'secresponsebodylimit':
        this.config.responseBodyLimit = this.int(d, file)
        return
      case 'secrequestbodyjsondepthlimit':
        this.config.requestBodyJsonDepthLimit = this.int(d, file)
        return
      case 'secargumentslimit':
        this.config.argumentsLimit = this.int(d, file)
        return
      case 'secrequestbodylimitaction':
      case 'secresponsebodylimitaction': {
        const t = this.arg(d, file, 0, 'Reject or ProcessPartial')
        const v = ['Reject', 'ProcessPartial'].find((m) => m.toLowerCase() === t.text.toLowerCase())
        if (!v) this.error(file, t, `${d.name.text} takes Reject or ProcessPartial, got '${t.text}'`)
        if (name === 'secrequestbodylimitaction') this.config.requestBodyLimitAction = v as 'Reject'
        else this.config.responseBodyLimitAction = v as 'Reject'
        return
      }
      case 'secresponsebodymimetype':
        for (const t of d.args)
          for (const m of t.text.split(/\s+/)) if (m) this.config.responseBodyMimeTypes.push(m.toLowerCase())
        return
      case 'secresponsebodymimetypesclear':
        this.config.responseBodyMimeTypes = []
        return
      case 'seccollectiontimeout':
        this.config.collectionTimeout = this.int(d, file)
        return
      case 'seccomponentsignature':
        this.config.componentSignatures.push(this.arg(d, file, 0, 'a signature').text)
        return
      case 'secargumentseparator': {
        const t = this.arg(d, file, 0, 'a separator')
        if (t.text !== '&') this.error(file, t, `only '&' is supported as SecArgumentSeparator`)
        return
      }
      case 'secruleremovebyid':
        return this.removeById(d, file)
      case 'secruleremovebytag':
      case 'secruleremovebymsg': {
        const t = this.arg(d, file, 0, 'a regular expression')
        const re = this.regex(file, t)
        const byTag = name === 'secruleremovebytag'
        this.removeWhere((r) =>
          byTag ? r.tags.some((tag) => re.test(tag)) : re.test(constantMacro(r.msg ?? []) ?? ''),
        )
        return
      }
      case 'secruleupdatetargetbyid':
      case 'secruleupdatetargetbytag':
      case 'secruleupdatetargetbymsg':
        return this.updateTarget(d, file, name)
      case 'secruleupdateactionbyid':
        return this.updateAction(d, file)
      case 'include':
        return this.include(d, file)
      default:
        if (IGNORED_DIRECTIVES.has(name)) return
        this.error(file, d.name, `unknown or unsupported directive '${d.name.text}'`)
    }
  }

  regex(file: string, t: Token): RegExp {
    try {
      return new RegExp(t.text)
    } catch (cause) {
      return this.error(file, t, `invalid regular expression '${t.text}'`, cause)
    }
  }

  include(d: Directive, file: string): void {
    const t = this.arg(d, file, 0, 'a path')
    const pattern = resolvePath(dirname(file), t.text)
    if (this.depth > 20) this.error(file, t, 'Include nested too deeply (a loop?)')
    let paths: string[]
    try {
      paths = /[*?[]/.test(pattern) ? this.source.listFiles(pattern) : [pattern]
    } catch (cause) {
      return this.error(file, t, `cannot list '${pattern}'`, cause)
    }
    if (paths.length === 0 && !/[*?[]/.test(pattern))
      this.error(file, t, `Include: no such file '${pattern}'`)
    this.depth++
    for (const p of paths) this.loadFile(p)
    this.depth--
  }

  parseIdList(file: string, tokens: readonly Token[]): Array<[number, number]> {
    const ranges: Array<[number, number]> = []
    for (const t of tokens) {
      for (const part of t.text.split(/[\s,]+/)) {
        if (part === '') continue
        const m = /^(\d+)(?:-(\d+))?$/.exec(part)
        if (!m) this.error(file, t, `not a rule id or range: '${part}'`)
        ranges.push([Number(m[1]), Number(m[2] ?? m[1])])
      }
    }
    return ranges
  }

  removeById(d: Directive, file: string): void {
    if (d.args.length === 0) this.error(file, d.name, 'SecRuleRemoveById: missing rule id')
    const ranges = this.parseIdList(file, d.args)
    this.removeWhere((r) => ranges.some(([a, b]) => r.id >= a && r.id <= b))
  }

  removeWhere(pred: (r: MutableRule) => boolean): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!
      if (e.kind === 'rule' && pred(e.rule)) this.entries.splice(i, 1)
    }
    for (let i = this.rules.length - 1; i >= 0; i--) if (pred(this.rules[i]!)) this.rules.splice(i, 1)
  }

  selectors(file: string, t: Token): VariableSelector[] {
    try {
      return parseSelectors(t.text, (n) => findVariable(n) !== undefined)
    } catch (e) {
      if (e instanceof SelectorSyntaxError)
        this.error(file, { line: t.line, column: t.column + e.offset }, e.message)
      throw e
    }
  }

  updateTarget(d: Directive, file: string, name: string): void {
    const which = this.arg(d, file, 0, 'the rules to update')
    const targets = this.selectors(file, this.arg(d, file, 1, 'a target list'))
    const replaced = d.args[2] ? this.selectors(file, d.args[2]) : undefined
    let pred: (r: MutableRule) => boolean
    if (name === 'secruleupdatetargetbyid') {
      const ranges = this.parseIdList(file, [which])
      pred = (r) => ranges.some(([a, b]) => r.id >= a && r.id <= b)
    } else {
      const re = this.regex(file, which)
      pred =
        name === 'secruleupdatetargetbytag'
          ? (r) => r.tags.some((tag) => re.test(tag))
          : (r) => re.test(constantMacro(r.msg ?? []) ?? '')
    }
    for (const r of this.rules) {
      if (!pred(r)) continue
      if (replaced) {
        const old = replaced[0]!.text.toLowerCase()
        r.targets = r.targets.filter((s) => s.text.toLowerCase() !== old)
      }
      r.targets = [...r.targets, ...targets]
    }
  }

  updateAction(d: Directive, file: string): void {
    const which = this.arg(d, file, 0, 'a rule id')
    const actionsTok = this.arg(d, file, 1, 'actions')
    const ranges = this.parseIdList(file, [which])
    const draft = emptyRuleDraft()
    this.applyActions(draft, actionsTok, file)
    if (draft.id !== 0 || draft.phase !== undefined)
      this.error(file, actionsTok, 'SecRuleUpdateActionById cannot change id or phase')
    for (const r of this.rules) {
      if (!ranges.some(([a, b]) => r.id >= a && r.id <= b)) continue
      if (draft.disruptive !== undefined) r.disruptive = this.resolveDisruptive(draft.disruptive, r.phase)
      if (draft.status !== undefined) r.status = draft.status
      if (draft.msg !== undefined) r.msg = draft.msg
      if (draft.logdata !== undefined) r.logdata = draft.logdata
      if (draft.severity !== undefined) r.severity = draft.severity
      if (draft.log !== undefined) r.log = draft.log
      if (draft.tags.length > 0) r.tags = [...r.tags, ...draft.tags]
      if (draft.transforms.length > 0 || draft.transformsReset) {
        const names = draft.transformsReset
          ? draft.transforms
          : [...r.transforms.map((x) => x.name), ...draft.transforms]
        r.transforms = this.compileTransforms(names, file, actionsTok)
        r.transformKey = this.chainKey(names)
      }
      if (draft.effects.length > 0) r.effects = [...r.effects, ...draft.effects]
    }
  }

  applyActions(draft: RuleDraft, t: Token, file: string): void {
    let actions: ReturnType<typeof splitActions>
    try {
      actions = splitActions(t.text)
    } catch (e) {
      if (e instanceof LexError) this.error(file, { line: t.line, column: t.column + e.column }, e.message)
      throw e
    }
    for (const a of actions) {
      const def = this.actions(a.name)
      const at = { line: t.line, column: t.column + 1 + a.offset }
      if (!def) this.error(file, at, `unknown action '${a.name}'`)
      try {
        def.init(draft, a.value)
      } catch (cause) {
        this.error(file, at, cause instanceof Error ? cause.message : String(cause), cause)
      }
    }
  }

  secDefaultAction(d: Directive, file: string): void {
    const t = this.arg(d, file, 0, 'actions')
    const draft = emptyRuleDraft()
    this.applyActions(draft, t, file)
    if (draft.phase === undefined) this.error(file, t, 'SecDefaultAction must name a phase')
    if (draft.id !== 0) this.error(file, t, 'SecDefaultAction cannot have an id')
    if (draft.disruptive === undefined) this.error(file, t, 'SecDefaultAction must have a disruptive action')
    this.defaults.set(draft.phase, {
      disruptive: draft.disruptive === 'block' ? 'pass' : draft.disruptive,
      status: draft.status,
      log: draft.log ?? true,
      auditlog: draft.auditlog ?? true,
      transforms: draft.transforms,
    })
  }

  defaultsFor(phase: Phase): Defaults {
    return (
      this.defaults.get(phase) ?? {
        disruptive: 'pass',
        status: undefined,
        log: true,
        auditlog: true,
        transforms: [],
      }
    )
  }

  resolveDisruptive(d: RuleDraft['disruptive'], phase: Phase): Rule['disruptive'] {
    const def = this.defaultsFor(phase)
    if (d === undefined || d === 'block') return def.disruptive ?? 'pass'
    return d
  }

  chainKey(names: string[]): number {
    const key = names.map((n) => n.toLowerCase()).join(',')
    let id = this.chainKeys.get(key)
    if (id === undefined) {
      id = this.chainKeys.size
      this.chainKeys.set(key, id)
    }
    return id
  }

  compileTransforms(names: string[], file: string, at: Token): Rule['transforms'] {
    return names.map((name) => {
      const fn = this.transforms(name)
      if (!fn) this.error(file, at, `unknown transformation '${name}'`)
      return { name, fn }
    })
  }

  compileOperator(t: Token | undefined, file: string, fallbackAt: Token): CompiledOperator {
    let text = (t?.text ?? '').trimStart()
    let negated = false
    if (text.startsWith('!')) {
      negated = true
      text = text.slice(1).trimStart()
    }
    let name = 'rx'
    let param = text
    if (text.startsWith('@')) {
      const m = /^@([A-Za-z0-9_]+)\s?/.exec(text)
      if (!m) this.error(file, t ?? fallbackAt, `invalid operator '${text}'`)
      name = m[1]!
      param = text.slice(m[0].length)
    }
    const at = t ?? fallbackAt
    const baseDir = dirname(file)
    let factory = this.operators(name)
    if (!factory) {
      if (!INERT_OPERATORS.has(name.toLowerCase())) this.error(file, at, `unknown operator '@${name}'`)
      this.warnings.push(
        `${file}:${at.line}: @${name} needs an external service Palisade does not use; it never matches`,
      )
      factory = () => () => null
    }
    const f = factory
    const ctx = {
      baseDir,
      readFile: (p: string) => this.source.readFile(resolvePath(baseDir, p)),
      regexSet: this.regexSet,
    }
    const compile = (p: string): Operator => f(p, ctx)
    if (hasMacro(param)) {
      return { name, param, negated, run: undefined, paramMacro: parseMacro(param), compile }
    }
    let run: Operator
    try {
      run = compile(param)
    } catch (cause) {
      return this.error(
        file,
        at,
        `@${name}: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      )
    }
    return { name, param, negated, run, paramMacro: undefined, compile }
  }

  secAction(d: Directive, file: string): void {
    this.buildRule(
      d,
      file,
      undefined,
      { text: '@unconditionalMatch', line: d.line, column: 1 },
      d.args[0],
      true,
    )
  }

  secRule(d: Directive, file: string): void {
    const vars = this.arg(d, file, 0, 'variables')
    this.buildRule(d, file, vars, this.arg(d, file, 1, 'an operator'), d.args[2], false)
  }

  buildRule(
    d: Directive,
    file: string,
    varsTok: Token | undefined,
    opTok: Token,
    actionsTok: Token | undefined,
    unconditional: boolean,
  ): void {
    const draft = emptyRuleDraft()
    if (actionsTok) this.applyActions(draft, actionsTok, file)
    const starter = this.chainStarter
    const isChild = starter !== undefined
    if (isChild) {
      if (draft.id !== 0) this.error(file, d.name, 'a chained rule cannot have an id')
      if (draft.phase !== undefined) this.error(file, d.name, 'a chained rule cannot have a phase')
      if (draft.skip || draft.skipAfter)
        this.error(file, d.name, 'skip/skipAfter are only allowed in the chain starter')
    } else {
      if (draft.id === 0) this.error(file, d.name, `${d.name.text} without an id`)
      if (this.ids.has(draft.id)) this.error(file, d.name, `duplicate rule id ${draft.id}`)
    }
    const phase: Phase = isChild ? starter.phase : (draft.phase ?? 2)
    const def = this.defaultsFor(phase)
    const names = draft.transformsReset ? draft.transforms : [...def.transforms, ...draft.transforms]
    let operator: CompiledOperator
    if (unconditional) {
      operator = {
        name: 'unconditionalMatch',
        param: '',
        negated: false,
        run: () => ({ captures: [] }),
        paramMacro: undefined,
        compile: () => () => ({ captures: [] }),
      }
    } else operator = this.compileOperator(opTok, file, d.name)
    const rule: MutableRule = {
      id: isChild ? starter.id : draft.id,
      phase,
      file,
      line: d.line,
      targets: varsTok ? this.selectors(file, varsTok) : [],
      operator,
      transforms: this.compileTransforms(names, file, actionsTok ?? d.name),
      transformKey: this.chainKey(names),
      effects: draft.effects,
      msg: draft.msg,
      logdata: draft.logdata,
      tags: draft.tags,
      severity: draft.severity,
      ver: draft.ver,
      rev: draft.rev,
      accuracy: draft.accuracy,
      maturity: draft.maturity,
      disruptive: isChild ? 'pass' : this.resolveDisruptive(draft.disruptive, phase),
      allowScope: draft.allowScope,
      status:
        draft.status ??
        (draft.disruptive === 'block' || draft.disruptive === undefined ? def.status : undefined),
      redirectUrl: draft.redirectUrl,
      chainedRule: undefined,
      skip: draft.skip,
      skipAfter: draft.skipAfter,
      capture: draft.capture,
      multiMatch: draft.multiMatch,
      log: draft.log ?? def.log,
      auditlog: draft.auditlog ?? def.auditlog,
    }
    if (unconditional && rule.targets.length === 0) rule.targets = []
    if (isChild) {
      this.chainTail!.chainedRule = rule
    } else {
      this.ids.add(rule.id)
      this.rules.push(rule)
      this.entries.push({ kind: 'rule', rule })
      this.chainStarter = draft.chain ? rule : undefined
    }
    if (draft.chain) {
      this.chainTail = rule
      this.chainTailFile = file
    } else {
      this.chainTail = undefined
      this.chainStarter = undefined
    }
  }

  chainStarter: MutableRule | undefined

  finish(): RuleSet {
    if (this.chainTail)
      this.error(
        this.chainTailFile,
        { line: this.chainTail.line, column: 1 },
        `rule ${this.chainStarter?.id ?? ''}: 'chain' without a following SecRule`,
      )
    const phases: RuleEntry[][] = [[], [], [], [], [], []]
    for (const e of this.entries) {
      if (e.kind === 'marker') for (let p = 1; p <= 5; p++) phases[p]!.push(e)
      else phases[e.rule.phase]!.push(e)
    }
    return Object.freeze({
      config: Object.freeze({ ...this.config }),
      phases: Object.freeze(phases.map((p) => Object.freeze(p))),
      rules: Object.freeze([...this.rules]),
      warnings: Object.freeze([...this.warnings]),
      transformChains: this.chainKeys.size,
      regexSet: this.regexSet,
    })
  }
}

/**
 * Loads SecLang files and/or text into a RuleSet. Throws WafConfigError on any problem.
 * @example loadRuleSet({ text: 'SecRule ARGS "@rx x" "id:1,phase:2,deny"', source })
 */
export function loadRuleSet(opts: LoadRuleSetOptions): RuleSet {
  const c = new Compiler(
    opts.source,
    opts.operators ?? findOperator,
    opts.transforms ?? findTransform,
    opts.actions ?? findAction,
  )
  for (const f of opts.files ?? []) {
    if (/[*?[]/.test(f)) for (const p of opts.source.listFiles(f)) c.loadFile(p)
    else c.loadFile(f)
  }
  if (opts.text !== undefined) c.loadText(opts.text, opts.textName ?? '<text>')
  return c.finish()
}

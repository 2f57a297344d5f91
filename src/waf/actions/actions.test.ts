import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ActionRuleInfo, ActionTx, CtlCommand, RuleDraft } from './action.js'
import { emptyRuleDraft, findAction, parseCtl } from './index.js'
import { parseMacro } from './macro.js'

const draft = emptyRuleDraft

function apply(d: RuleDraft, name: string, arg?: string): void {
  const a = findAction(name)
  assert.ok(a, `action ${name}`)
  a.init(d, arg)
}

class RecordingTx implements ActionTx {
  vars = new Map<string, string>([['tx.critical_anomaly_score', '5']])
  ctls: CtlCommand[] = []
  expand(macro: ReturnType<typeof parseMacro>, rule: ActionRuleInfo): string {
    return macro
      .map((p) =>
        typeof p === 'string'
          ? p
          : p.variable === 'RULE'
            ? String(rule.id)
            : (this.vars.get(`${p.variable.toLowerCase()}.${p.key}`) ?? ''),
      )
      .join('')
  }
  setVar(c: string, k: string, op: string, v: string): void {
    const key = `${c}.${k}`
    if (op === '!') this.vars.delete(key)
    else if (op === '+') this.vars.set(key, String(Number(this.vars.get(key) ?? 0) + Number(v)))
    else this.vars.set(key, v)
  }
  expireVar(): void {}
  initCollection(): void {}
  ctl(c: CtlCommand): void {
    this.ctls.push(c)
  }
}

test('macros split into literals and references', () => {
  assert.deepEqual(parseMacro('a %{tx.x} b %{MATCHED_VAR}'), [
    'a ',
    { variable: 'TX', key: 'x' },
    ' b ',
    { variable: 'MATCHED_VAR', key: undefined },
  ])
  assert.deepEqual(parseMacro('plain'), ['plain'])
  assert.deepEqual(parseMacro('%{REQUEST_HEADERS.Host}'), [{ variable: 'REQUEST_HEADERS', key: 'host' }])
})

test('setvar sets, adds and deletes with macro expansion', () => {
  const d = draft()
  apply(d, 'id', '7')
  apply(d, 'setvar', 'tx.score=+%{tx.critical_anomaly_score}')
  apply(d, 'setvar', 'tx.%{rule.id}_seen=1')
  apply(d, 'setvar', '!tx.gone')
  const tx = new RecordingTx()
  tx.vars.set('tx.gone', 'x')
  const info: ActionRuleInfo = {
    id: 7,
    msg: undefined,
    logdata: undefined,
    severity: undefined,
    tags: [],
    ver: undefined,
    rev: undefined,
  }
  for (const e of d.effects) e(tx, info)
  for (const e of d.effects) e(tx, info)
  assert.equal(tx.vars.get('tx.score'), '10')
  assert.equal(tx.vars.get('tx.7_seen'), '1')
  assert.equal(tx.vars.has('tx.gone'), false)
})

test('metadata actions fill the draft and reject bad arguments', () => {
  const d = draft()
  apply(d, 'phase', 'request')
  apply(d, 'severity', 'WARNING')
  apply(d, 'deny')
  apply(d, 'status', '406')
  apply(d, 't', 'lowercase')
  apply(d, 't', 'none')
  apply(d, 't', 'urlDecodeUni')
  assert.equal(d.phase, 2)
  assert.equal(d.severity, 4)
  assert.equal(d.disruptive, 'deny')
  assert.equal(d.status, 406)
  assert.deepEqual(d.transforms, ['urlDecodeUni'])
  assert.equal(d.transformsReset, true)
  assert.throws(() => apply(draft(), 'phase', '9'), /phase/)
  assert.throws(() => apply(draft(), 'status', '42'), /status/)
  assert.throws(() => apply(draft(), 'id', 'x'), /id/)
  assert.throws(() => apply(draft(), 'severity', 'LOUD'), /severity/)
})

test('ctl parses every supported option and ignores audit-log ones', () => {
  assert.deepEqual(parseCtl('ruleRemoveById=920000-920999'), {
    kind: 'ruleRemoveById',
    ranges: [[920000, 920999]],
  })
  assert.deepEqual(parseCtl('ruleRemoveTargetById=942100;ARGS:pwd'), {
    kind: 'ruleRemoveTargetById',
    ranges: [[942100, 942100]],
    target: 'ARGS:pwd',
  })
  assert.equal(parseCtl('ruleRemoveTargetByTag=attack-sqli;ARGS:q').kind, 'ruleRemoveTargetByTag')
  assert.deepEqual(parseCtl('requestBodyProcessor=JSON'), { kind: 'requestBodyProcessor', processor: 'JSON' })
  assert.deepEqual(parseCtl('ruleEngine=DetectionOnly'), { kind: 'ruleEngine', mode: 'DetectionOnly' })
  assert.deepEqual(parseCtl('forceRequestBodyVariable=On'), { kind: 'forceRequestBodyVariable', on: true })
  assert.deepEqual(parseCtl('auditLogParts=+E'), { kind: 'ignored' })
  assert.throws(() => parseCtl('ruleEngine=Maybe'), /ruleEngine/)
  assert.throws(() => parseCtl('requestBodyProcessor=YAML'), /requestBodyProcessor/)
  assert.throws(() => parseCtl('frobnicate=1'), /unsupported ctl/)
})

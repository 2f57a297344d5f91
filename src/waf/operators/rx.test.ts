import assert from 'node:assert/strict'
import RE2 from 're2'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import { WafConfigError } from '../errors.js'
import { translatePcre } from './pcre-translate.js'
import {
  compileRegex,
  FALLBACK_INPUT_LIMIT,
  FALLBACK_WINDOW,
  isStartAnchored,
  stripLeadingStar,
} from './rx.js'

/** CRS 3.3.4 rule 920600 (REQUEST_HEADERS:Accept, `!@rx`), as the rule file has it. */
const CRS_920600 = (
  JSON.parse(readFileSync(new URL('./testdata/crs-rx-pcre.json', import.meta.url), 'latin1')) as {
    patterns: Array<{ id: string; pattern: string }>
  }
).patterns.find((p) => p.id === '920600')!.pattern

describe('@rx engine choice', () => {
  test('runs RE2-compatible patterns on RE2', () => {
    assert.equal(compileRegex('(?i)union\\s+select').engine, 're2')
  })

  test('runs possessive quantifiers and atomic groups on RE2 as greedy ones (a superset)', () => {
    const possessive = compileRegex('^a++b')
    assert.equal(possessive.engine, 're2')
    assert.ok(possessive.operator('aab'))
    // PCRE: no match (a++ never gives back). RE2 greedy: match. Documented in docs/waf-regex-fallbacks.md.
    assert.ok(compileRegex('^a++a').operator('aaa'))
    assert.ok(compileRegex('(?>ab|a)c').operator('abc'))
  })

  test('emulates possessive quantifiers exactly when the pattern is on the JS fallback anyway', () => {
    const op = compileRegex('^(x)\\1a++a')
    assert.equal(op.engine, 'js')
    assert.equal(op.operator('xxaaa'), null)
    assert.ok(compileRegex('^(x)\\1a++b').operator('xxaab'))
    assert.deepEqual(compileRegex('(?>(x)b|x)c(y)\\2').operator('xcyy')?.captures, ['xcyy', '', 'y'])
  })

  test('CRS 920600 runs on RE2, exact for its possessive \\s*+, and stays linear on a hostile header', () => {
    const accept = compileRegex(CRS_920600)
    assert.equal(accept.engine, 're2')
    assert.ok(accept.operator('text/html; charset=utf-8'))
    assert.ok(accept.operator('text/html; q=0.9, */*; q=0.8'))
    // PCRE rejects both (the rule is `!@rx`, so it fires). Plain greedy quantifiers would accept the
    // first one by giving the space after `;` back to the "other parameter" branch.
    assert.equal(accept.operator('text/html; charset=ibm037'), null)
    assert.equal(accept.operator('text/html;charset=ibm037'), null)
    // On a backtracking engine with exact possessive semantics this input never finishes.
    assert.equal(accept.operator('a/b' + ' ; x=y'.repeat(2000) + ' ; charset=x'), null)
  })

  test('falls back to JS RegExp for backreferences and lookaround', () => {
    assert.equal(compileRegex('(a)\\1').engine, 'js')
    assert.equal(compileRegex('(?<!x)y').engine, 'js')
  })

  test('rejects a pattern neither engine compiles with WafConfigError', () => {
    assert.throws(() => compileRegex('(?<!a+)b(\\1'), WafConfigError)
  })
})

describe('@rx multiline anchors on RE2', () => {
  test("PCRE's ^ does not match after the newline that ends the subject; elsewhere it does", () => {
    const { engine, operator } = compileRegex('^$')
    assert.equal(engine, 're2')
    assert.equal(operator('x\n'), null)
    assert.notEqual(operator(''), null)
    assert.notEqual(operator('x\n\n'), null)
    assert.notEqual(operator('x\n\ny'), null)
    assert.equal(operator('x'), null)
  })

  test('a start-anchored pattern gives its captures whether or not the subject ends with a newline', () => {
    const { operator } = compileRegex('^(a+)b')
    assert.deepEqual(operator('aab')?.captures, ['aab', 'aa'])
    assert.deepEqual(operator('x\nab\n')?.captures, ['ab', 'a'])
  })
})

describe('@rx patterns that match everything', () => {
  test('^.*$, ^.* and .* capture the whole input, newlines included, as RE2 with dot-all does', () => {
    for (const p of ['^.*$', '^.*', '.*', '']) {
      for (const input of ['', 'x-custom-header', 'a\nb', 'a\n']) {
        const general = new RE2(translatePcre(p === '' ? '.*' : p, 're2').source, 'sm').exec(input)
        assert.deepEqual(
          compileRegex(p).operator(input)?.captures,
          [general?.[0]],
          `${p} on ${JSON.stringify(input)}`,
        )
      }
    }
  })
})

describe('@rx on byte strings', () => {
  test('a class written with UTF-8 literals (CRS 942420) holds each byte when the rule is read as latin1', () => {
    const pattern = Buffer.from('["\'\u00b4\u2019]', 'utf8').toString('latin1')
    const op = compileRegex(pattern).operator
    assert.ok(op('x\xb4'), 'byte 0xb4 of U+00B4')
    assert.ok(op('x\x99'), 'byte 0x99 of U+2019')
    assert.equal(op('x\u2019'), null, 'a UTF-16 code unit never reaches the WAF')
  })

  test('a negated ASCII class matches high bytes one at a time', () => {
    assert.deepEqual(compileRegex('[^\\x00-\\x7f]+').operator('ab\xe9\xff')?.captures, ['\xe9\xff'])
  })
})

describe('@rx JS fallback bounds', () => {
  const op = compileRegex('(\\w)\\1{3}').operator

  test('finds a match past the first window', () => {
    const input = ' '.repeat(FALLBACK_WINDOW * 3) + 'zzzz'
    assert.deepEqual(op(input)?.captures, ['zzzz', 'z'])
  })

  test('finds a match that straddles two windows', () => {
    const input = ' '.repeat(FALLBACK_WINDOW - 2) + 'zzzz'
    assert.ok(op(input))
  })

  test('does not look past the input limit (documented)', () => {
    const input = ' '.repeat(FALLBACK_INPUT_LIMIT) + 'zzzz'
    assert.equal(op(input), null)
  })

  test('honours (?i:...) covering the whole pattern', () => {
    const ci = compileRegex('(?i:(a)\\1)')
    assert.equal(ci.engine, 'js')
    assert.ok(ci.operator('aA'))
  })
})

describe('isStartAnchored', () => {
  test('recognises patterns whose every match starts at a line start', () => {
    assert.ok(isStartAnchored('^a(b|c)$'))
    assert.ok(isStartAnchored('\\Aab'))
    assert.ok(!isStartAnchored('^a|b'))
    assert.ok(!isStartAnchored('a^'))
  })

  test('gives an anchored fallback pattern the whole input, not a window', () => {
    const op = compileRegex('^(?:a(?=a)|a)++$').operator
    assert.equal(compileRegex('^(?:a(?=a)|a)++$').engine, 'js')
    assert.ok(op('a'.repeat(FALLBACK_WINDOW * 2)))
    assert.equal(op('a'.repeat(FALLBACK_WINDOW * 2) + 'b'), null)
  })
})

describe('stripLeadingStar', () => {
  test('drops a leading starred class from an unanchored pattern', () => {
    assert.equal(stripLeadingStar('[\\s\'"]*?\\b(x)'), '\\b(x)')
    assert.equal(stripLeadingStar('\\s*x'), 'x')
  })

  test('drops it inside a group that is the whole pattern', () => {
    assert.equal(stripLeadingStar('(?i:[\\s()]*?\\b(\\w+)\\b=\\1)'), '(?i:\\b(\\w+)\\b=\\1)')
  })

  test('keeps anchored patterns and quantified or partial groups intact', () => {
    for (const p of ['^\\s*x', '(?:\\d*a){2}', '(?:\\d*a)|b', 'abc']) assert.equal(stripLeadingStar(p), p)
  })
})

describe('translatePcre', () => {
  test('spells out \\s as the C-locale set for both engines', () => {
    assert.equal(translatePcre('a\\sb', 're2').source, 'a[\\x09-\\x0d\\x20]b')
    assert.equal(translatePcre('[\\s,]', 'js').source, '[\\x09-\\x0d\\x20,]')
  })

  test('narrows the class right after a possessive single class, so RE2 gets the exact language', () => {
    assert.equal(
      translatePcre('\\s*+[^c]+', 're2').source,
      '[\\x09-\\x0d\\x20]*(?:[\\x00-\\x08\\x0e-\\x1f\\x21-\\x62\\x64-\\xff])[^c]*',
    )
    assert.equal(translatePcre('a*+(?:[ab]|c)', 're2').source, 'a*(?:[\\x62]|c)')
    // A nullable atom next: left as a (documented) superset.
    assert.equal(translatePcre('a++\\s*?[@a]', 're2').source, 'a+[\\x09-\\x0d\\x20]*?[@a]')
  })

  test('keeps lazy quantifiers and makes possessive ones greedy for RE2', () => {
    assert.equal(translatePcre('a*?b++c{2,3}+d??(?>e)', 're2').source, 'a*?b+c{2,3}d??(?:e)')
  })

  test('names the groups for JS so helper groups do not shift captures', () => {
    const t = translatePcre('(a)(?:b)(c)\\1', 'js')
    assert.equal(t.groups, 2)
    assert.equal(t.source, '(?<__g1>a)(?:b)(?<__g2>c)\\k<__g1>')
  })

  test('gives JS the PCRE meaning of ^ and $ (only \\n ends a line)', () => {
    const re = (p: string): RegExp => new RegExp(translatePcre(p, 'js').source, 's')
    assert.ok(re('^b$').test('a\nb\nc'))
    assert.ok(!re('^b').test('a\rb'))
    assert.ok(!re('^$').test('x\n'))
    assert.ok(re('a$').test('a\n'))
  })

  test('leaves escaped quantifier characters alone', () => {
    assert.equal(translatePcre('\\*+\\++', 're2').source, '\\*+\\++')
  })

  test('hoists (?i) into a flag for JS', () => {
    const t = translatePcre('(?i)ab', 'js')
    assert.equal(t.source, 'ab')
    assert.equal(t.extraFlags, 'i')
  })

  test('rewrites \\A, \\z and \\Z for JS', () => {
    const { source } = translatePcre('\\Aa\\z|b\\Z', 'js')
    const re = new RegExp(source, 'sm')
    assert.ok(re.test('a'))
    assert.ok(!re.test('xa'))
    assert.ok(re.test('b\n'))
  })

  test('turns \\Q...\\E into an escaped literal for JS', () => {
    assert.ok(new RegExp(translatePcre('\\Qa.b\\E', 'js').source).test('a.b'))
    assert.ok(!new RegExp(translatePcre('\\Qa.b\\E', 'js').source).test('axb'))
  })
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseCsv } from './csv.js'
import { parseJson } from './json.js'
import { parseMultipart, strictError } from './multipart.js'
import { parseUrlEncoded, urlDecodeNonStrict } from './urlencoded.js'
import { parseXml } from './xml.js'

test('url-encoded bodies split on & and the first =, decoding + and valid %XX only', () => {
  const { pairs } = parseUrlEncoded('a=1&b=x+y%41%zz&&c&d=e=f')
  assert.deepEqual(pairs, [
    { key: 'a', value: '1' },
    { key: 'b', value: 'x yA%zz' },
    { key: 'c', value: '' },
    { key: 'd', value: 'e=f' },
  ])
  assert.equal(urlDecodeNonStrict('%'), '%')
  assert.equal(urlDecodeNonStrict('%4'), '%4')
})

test('url-encoded parsing stops at the argument limit (hash-flooding and CPU exhaustion)', () => {
  const r = parseUrlEncoded('a=1&'.repeat(50), 10)
  assert.equal(r.pairs.length, 10)
  assert.equal(r.truncated, true)
})

test('JSON is flattened with ModSecurity v3 names', () => {
  const r = parseJson('{"a":{"b":1,"c":[true,null,"x"]},"d":"\xc3\xa9"}', { depthLimit: 10, argsLimit: 100 })
  assert.equal(r.error, undefined)
  assert.deepEqual(r.pairs, [
    { key: 'json.a.b', value: '1' },
    { key: 'json.a.c.array_0', value: 'true' },
    { key: 'json.a.c.array_1', value: '' },
    { key: 'json.a.c.array_2', value: 'x' },
    { key: 'json.d', value: '\xc3\xa9' }, // UTF-8 bytes
  ])
})

test('malformed or too deeply nested JSON is a body error, not a throw', () => {
  assert.match(parseJson('{"a":', { depthLimit: 10, argsLimit: 10 }).error ?? '', /JSON parsing error/)
  const deep = '['.repeat(50) + ']'.repeat(50)
  assert.match(parseJson(deep, { depthLimit: 20, argsLimit: 10 }).error ?? '', /deeper/)
})

test('XML gives the root text content and attribute values', () => {
  const r = parseXml('<a x="1"><b>he</b><c y="2">llo</c></a>', { depthLimit: 10, attributesLimit: 10 })
  assert.equal(r.error, undefined)
  assert.deepEqual(r.texts, ['hello'])
  assert.deepEqual(
    r.attributes.map((a) => a.value),
    ['1', '2'],
  )
})

test('XML external entities are never expanded (XXE)', () => {
  const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
  const r = parseXml(xxe, { depthLimit: 10, attributesLimit: 10 })
  assert.ok(r.error)
  assert.ok(!r.texts.join('').includes('root:'))
})

test('malformed XML is a body error', () => {
  assert.ok(parseXml('<a><b></a>', { depthLimit: 10, attributesLimit: 10 }).error)
})

const CT = 'multipart/form-data; boundary=XyZ'
function mp(body: string, ct = CT) {
  return parseMultipart(ct, body, { argsLimit: 100, fileLimit: 10 })
}

test('multipart separates fields from files and keeps part headers', () => {
  const r = mp(
    '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="x.php"\r\nContent-Type: text/plain\r\n\r\n<?php\r\n' +
      '--XyZ--\r\n',
  )
  assert.equal(r.error, undefined)
  assert.deepEqual(r.args, [{ key: 'a', value: '1' }])
  assert.deepEqual(r.files, [{ key: 'f', value: 'x.php' }])
  assert.deepEqual(r.fileSizes, [{ key: 'f', value: '5' }])
  assert.deepEqual(r.parts[1]!.headers, [
    'Content-Disposition: form-data; name="f"; filename="x.php"',
    'Content-Type: text/plain',
  ])
  assert.equal(strictError(r), false)
})

test('multipart strictness flags catch parser-differential evasions', () => {
  const ok = '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n'
  assert.equal(mp(ok, 'multipart/form-data; boundary="XyZ"').flags.get('MULTIPART_BOUNDARY_QUOTED'), '1')
  assert.equal(mp(ok, 'multipart/form-data; boundary =XyZ').flags.get('MULTIPART_BOUNDARY_WHITESPACE'), '1')
  assert.equal(mp('junk\r\n' + ok).flags.get('MULTIPART_DATA_BEFORE'), '1')
  assert.equal(mp(ok + 'junk').flags.get('MULTIPART_DATA_AFTER'), '1')
  assert.equal(mp(ok.replace(/\r\n/g, '\n')).flags.get('MULTIPART_LF_LINE'), '1')
  assert.equal(mp(ok.replace('; name', ' name')).flags.get('MULTIPART_MISSING_SEMICOLON'), '1')
  assert.equal(mp(ok.replace('name="a"', "name='a'")).flags.get('MULTIPART_INVALID_QUOTING'), '1')
  const folded = '--XyZ\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\n1\r\n--XyZ--\r\n'
  assert.equal(mp(folded).flags.get('MULTIPART_HEADER_FOLDING'), '1')
  for (const bad of [
    mp(ok, 'multipart/form-data; boundary="XyZ'),
    mp(ok.replace('--XyZ--', '--XyZ-')),
    mp('--XyZ\r\nNoColon\r\n\r\n1\r\n--XyZ--\r\n'),
  ]) {
    assert.ok(bad.error, 'expected a body error')
    assert.equal(strictError(bad), true)
  }
  assert.equal(mp(ok.replace('1\r\n', '1\r\n--XyZa\r\n')).flags.get('MULTIPART_UNMATCHED_BOUNDARY'), '1')
})

test('multipart flags LF-only lines in boundaries and part headers, not in file content', () => {
  const lfInFile =
    '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nline 1\nline 2\n\r\n--XyZ--\r\n'
  const r = mp(lfInFile)
  assert.equal(r.flags.get('MULTIPART_LF_LINE'), undefined)
  assert.equal(r.flags.get('MULTIPART_CRLF_LF_LINES'), undefined)
  assert.equal(strictError(r), false)
  const lfHeader = lfInFile.replace('filename="a.txt"\r\n', 'filename="a.txt"\n')
  assert.equal(mp(lfHeader).flags.get('MULTIPART_LF_LINE'), '1')
  assert.equal(mp(lfHeader).flags.get('MULTIPART_CRLF_LF_LINES'), '1')
  const lfBoundary = lfInFile.replace('--XyZ\r\n', '--XyZ\n')
  assert.equal(mp(lfBoundary).flags.get('MULTIPART_LF_LINE'), '1')
})

test('multipart without a boundary, or with two, is a body error', () => {
  assert.match(mp('x', 'multipart/form-data').error ?? '', /Boundary not found/)
  assert.match(mp('x', 'multipart/form-data; boundary=a; boundary=b').error ?? '', /Multiple boundary/)
})

test('XML elements and attributes are arguments named by their path of local names', () => {
  const r = parseXml(
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><login id="7"><user>ann</user><pass>x</pass></login></soap:Body></soap:Envelope>',
    { depthLimit: 100, attributesLimit: 100 },
  )
  assert.equal(r.error, undefined)
  assert.deepEqual(r.args, [
    { key: 'xml.Envelope.Body.login.@id', value: '7' },
    { key: 'xml.Envelope.Body.login.user', value: 'ann' },
    { key: 'xml.Envelope.Body.login.pass', value: 'x' },
  ])
})

test('CSV cells become csv.<row>.<column> arguments, quotes and CRLF rows as RFC 4180 has them', () => {
  const { pairs, error } = parseCsv('a,b\r\n"x, ""y""",\n"multi\nline",z', { argsLimit: 100 })
  assert.equal(error, undefined)
  assert.deepEqual(pairs, [
    { key: 'csv.0.0', value: 'a' },
    { key: 'csv.0.1', value: 'b' },
    { key: 'csv.1.0', value: 'x, "y"' },
    { key: 'csv.1.1', value: '' },
    { key: 'csv.2.0', value: 'multi\nline' },
    { key: 'csv.2.1', value: 'z' },
  ])
  assert.match(parseCsv('a,"b', { argsLimit: 100 }).error ?? '', /not closed/)
  const many = parseCsv('1,'.repeat(50), { argsLimit: 10 })
  assert.equal(many.pairs.length, 10)
  assert.match(many.error ?? '', /more than 10 values/)
})

test('newline-delimited JSON: one document a line, named as array elements', () => {
  const r = parseJson('{"index":{"_id":"1"}}\n\n{"q":"x","n":[1]}\n', {
    depthLimit: 10,
    argsLimit: 100,
    lines: true,
  })
  assert.equal(r.error, undefined)
  assert.deepEqual(r.pairs, [
    { key: 'json.array_0.index._id', value: '1' },
    { key: 'json.array_1.q', value: 'x' },
    { key: 'json.array_1.n.array_0', value: '1' },
  ])
  assert.match(
    parseJson('{"a":1}\n{bad', { depthLimit: 10, argsLimit: 100, lines: true }).error ?? '',
    /JSON parsing error/,
  )
})

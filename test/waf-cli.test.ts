import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { wafEval } from '../src/cli/commands/waf.js'

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err }
}

test('waf eval prints one verdict line per request line, and falls back to the baseline without CRS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-waf-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'reqs.jsonl')
  writeFileSync(
    file,
    [
      JSON.stringify({ id: 'ok', method: 'GET', uri: '/?q=shoes', headers: { Host: 'a.example' } }),
      JSON.stringify({
        id: 'sqli',
        method: 'POST',
        uri: '/login',
        headers: { Host: 'a.example', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: "user=admin'--&pw=x' OR '1'='1",
      }),
      '{broken',
    ].join('\n'),
  )
  const c = capture()
  const code = await wafEval({ jsonl: file, crs: join(dir, 'no-crs-here') }, c.io)
  assert.match(c.err.join('\n'), /baseline/)
  const lines = c.out.map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(lines.length, 3)
  assert.deepEqual(lines[0], { id: 'ok', action: 'allow', score: 0, rules: [] })
  assert.equal(lines[1]?.['id'], 'sqli')
  assert.equal(lines[1]?.['action'], 'block')
  assert.ok((lines[1]?.['rules'] as number[]).includes(949110))
  assert.ok(typeof lines[2]?.['error'] === 'string')
  assert.equal(code, 1)
})

test('waf eval --summary prints the share blocked per label and category', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-waf-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'reqs.jsonl')
  const line = (id: string, label: string, category: string, q: string): string =>
    JSON.stringify({ id, label, category, method: 'GET', uri: `/?q=${q}`, headers: { Host: 'a.example' } })
  writeFileSync(
    file,
    [
      line('a1', 'attack', 'sqli', "1'%20OR%20'1'%3D'1'--"),
      line('a2', 'attack', 'sqli', 'shoes'),
      line('b1', 'benign', 'texts', 'red%20shoes'),
    ].join('\n'),
  )
  const c = capture()
  const code = await wafEval({ jsonl: file, crs: join(dir, 'no-crs-here'), summary: true }, c.io)
  assert.equal(code, 0)
  assert.deepEqual(c.out, [
    'LABEL\tCATEGORY\tREQUESTS\tBLOCKED\tRATE',
    'attack\t(all)\t2\t1\tTPR 50.0%',
    'attack\tsqli\t2\t1\tTPR 50.0%',
    'benign\t(all)\t1\t0\tFPR 0.0%',
    'benign\ttexts\t1\t0\tFPR 0.0%',
  ])
})

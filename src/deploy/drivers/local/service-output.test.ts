import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { createServiceOutput } from './service-output.js'

const ENV = 'env_test'
const SVC = 'svc_test'

/** Runs `sh -c script` with stdout and stderr on `fd` (as a server gets its output file) until it exits. */
function writer(fd: number, script: string): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', fd, fd] })
    c.on('close', (code) => resolve(code))
  })
}

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-output-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('service output files', () => {
  test('a process writes through the descriptor; the file is 0600 in a 0700 directory', async (t) => {
    const data = scratch(t)
    const out = createServiceOutput(data, 4096)
    const fd = out.open(ENV, SVC)
    assert.equal(await writer(fd, 'echo first; echo second >&2'), 0)
    closeSync(fd)
    const file = out.pathOf(ENV, SVC)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700)
    assert.equal(out.read(ENV, SVC, 1024), 'first\nsecond\n')
    // From an offset: only what came after it (a server's own output since its start).
    const from = out.size(ENV, SVC)
    const fd2 = out.open(ENV, SVC)
    await writer(fd2, 'echo third')
    closeSync(fd2)
    assert.equal(out.read(ENV, SVC, 1024, from), 'third\n')
  })

  test('readSince gives what came after an offset and where to go on; after a cut it starts again', async (t) => {
    const data = scratch(t)
    const out = createServiceOutput(data, 64)
    assert.deepEqual(out.readSince(ENV, SVC, 0, 1024), { buf: Buffer.alloc(0), next: 0 }, 'no file yet')
    const fd = out.open(ENV, SVC)
    await writer(fd, 'echo one')
    let got = out.readSince(ENV, SVC, 0, 1024)
    assert.equal(got.buf.toString(), 'one\n')
    await writer(fd, 'echo two')
    got = out.readSince(ENV, SVC, got.next, 1024)
    assert.deepEqual([got.buf.toString(), got.next], ['two\n', 8])
    assert.equal(out.readSince(ENV, SVC, got.next, 1024).buf.length, 0, 'nothing new')
    // More than asked for: the newest bytes.
    await writer(fd, 'echo 0123456789')
    assert.equal(out.readSince(ENV, SVC, got.next, 5).buf.toString(), '6789\n')
    // The cap empties the file: a reader past its new end starts again at 0.
    await writer(fd, 'i=0; while [ $i -lt 10 ]; do echo xxxxxxxxxx; i=$((i+1)); done')
    const before = out.size(ENV, SVC)
    assert.equal(out.cap(ENV, SVC), true)
    await writer(fd, 'echo fresh')
    closeSync(fd)
    got = out.readSince(ENV, SVC, before, 1024)
    assert.deepEqual([got.buf.toString(), got.next], ['fresh\n', 6])
  })

  test('past the cap the file moves to .1 and the writer goes on at the start, with no hole', async (t) => {
    const data = scratch(t)
    const cap = 4096
    const out = createServiceOutput(data, cap)
    const fd = out.open(ENV, SVC)
    // 20 000 bytes through the descriptor, as a chatty server would write them.
    await writer(fd, 'i=0; while [ $i -lt 1000 ]; do printf "line %05d ......\\n" $i; i=$((i+1)); done')
    const file = out.pathOf(ENV, SVC)
    assert.ok(statSync(file).size > cap)
    assert.equal(out.cap(ENV, SVC), true)
    assert.equal(statSync(file).size, 0)
    assert.ok(statSync(`${file}.1`).size <= cap)
    // The same descriptor (the server keeps it) appends at the new end: O_APPEND, no zero-filled hole.
    await writer(fd, 'echo after-cap')
    closeSync(fd)
    assert.equal(readFileSync(file, 'utf8'), 'after-cap\n')
    assert.equal(out.cap(ENV, SVC), false, 'under the cap: nothing to do')
    // Reading spans both files, newest last, starting at a whole line.
    const text = out.read(ENV, SVC, 200)
    assert.ok(text.endsWith('line 00999 ......\nafter-cap\n'), text)
    assert.match(text, /^line \d{5} \.{6}\n/)
    // What is kept is bounded: the cap for .1, whatever came since for the current file.
    assert.ok(statSync(`${file}.1`).size + statSync(file).size <= cap + 100)
  })

  test('a link planted at the output path is refused, not followed (symlink and hard link)', (t) => {
    const data = scratch(t)
    const out = createServiceOutput(data)
    const file = out.pathOf(ENV, SVC)
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    const target = path.join(data, 'target')
    writeFileSync(target, 'untouched\n')
    symlinkSync(target, file)
    assert.throws(() => out.open(ENV, SVC), /ELOOP|not a plain file/)
    assert.equal(out.read(ENV, SVC, 100), '')
    assert.equal(out.readSince(ENV, SVC, 0, 100).buf.length, 0, 'a follower reads nothing through it')
    assert.equal(out.cap(ENV, SVC), false)
    assert.equal(readFileSync(target, 'utf8'), 'untouched\n')
    out.remove(ENV, SVC)
    assert.throws(() => statSync(file))
    assert.equal(readFileSync(target, 'utf8'), 'untouched\n')
    linkSync(target, file)
    assert.throws(() => out.open(ENV, SVC), /not a plain file/)
    assert.equal(out.readSince(ENV, SVC, 0, 100).buf.length, 0)
    assert.equal(out.cap(ENV, SVC), false)
    assert.equal(readFileSync(target, 'utf8'), 'untouched\n')
  })

  test('ids that are not ids are refused (no path from a name)', (t) => {
    const out = createServiceOutput(scratch(t))
    assert.throws(() => out.open('../etc', SVC), /not an environment or service id/)
    assert.throws(() => out.open(ENV, 'a/b'), /not an environment or service id/)
  })
})

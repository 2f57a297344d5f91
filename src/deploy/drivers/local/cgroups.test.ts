import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { detectCgroups } from './cgroups.js'

const isRoot = process.getuid?.() === 0
const MiB = 1024 ** 2

function run(argv: readonly string[]): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    c.stdout.on('data', (b: Buffer) => (out += b.toString()))
    c.stderr.on('data', (b: Buffer) => (out += b.toString()))
    c.on('exit', (code, signal) => resolve({ code, signal, out }))
  })
}

const group = `t${process.pid}`

/** Forks until refused (or 200), prints how many it got, and ends them. */
const FORK_BOMB = `
const { spawn } = require('node:child_process')
let n = 0
let over = false
const kids = []
const done = () => { if (over) return; over = true; console.log('forked ' + n); for (const k of kids) k.kill('SIGKILL'); process.exit(0) }
const next = () => {
  if (n >= 200) return done()
  let c
  try { c = spawn('sleep', ['5']) } catch { return done() }
  c.on('error', done)
  c.on('spawn', () => { n++; kids.push(c); next() })
}
next()
`

test(
  'unit names that could leave the palisade tree are refused',
  { skip: isRoot ? false : 'needs root' },
  () => {
    const d = detectCgroups()
    assert.ok(d.ok, d.ok ? '' : d.reason)
    const limits = { memoryBytes: 64 * MiB, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, pidsMax: 16 }
    for (const bad of ['..', '../x', 'a/b', '', 'A'])
      assert.throws(() => d.cgroups.ensure(group, bad, limits), /invalid cgroup unit name/)
  },
)

test(
  'a process over its memory limit is killed by the kernel inside its unit, and the kill is counted',
  { skip: isRoot ? false : 'needs root (cgroups)' },
  async (t) => {
    const d = detectCgroups()
    assert.ok(d.ok, d.ok ? '' : d.reason)
    const cg = d.cgroups
    t.after(() => cg.removeGroup(group))
    cg.ensure(group, 'mem', { memoryBytes: 64 * MiB, cpuQuotaUs: 100_000, cpuPeriodUs: 100_000, pidsMax: 64 })
    const r = await run(
      cg.launcherArgv(group, 'mem', [
        process.execPath,
        '-e',
        'const a = []; for (let i = 0; i < 64; i++) { a.push(Buffer.alloc(8 * 1024 * 1024, 1)) } console.log("survived")',
      ]),
    )
    assert.equal(r.signal, 'SIGKILL', r.out)
    assert.ok(!r.out.includes('survived'))
    const u = cg.usage(group, 'mem')
    assert.ok(u)
    assert.equal(u.oomKills, 1)
    assert.equal(u.memoryLimitBytes, 64 * MiB)
  },
)

test(
  "a fork bomb stops at the unit's process cap and the host can still start processes",
  { skip: isRoot ? false : 'needs root (cgroups)' },
  async (t) => {
    const d = detectCgroups()
    assert.ok(d.ok, d.ok ? '' : d.reason)
    const cg = d.cgroups
    t.after(async () => {
      cg.killAll(group, 'pids')
      await cg.remove(group, 'pids')
      await cg.removeGroup(group)
    })
    cg.ensure(group, 'pids', {
      memoryBytes: 256 * MiB,
      cpuQuotaUs: 50_000,
      cpuPeriodUs: 100_000,
      pidsMax: 32,
    })
    // Forks until refused, then reports how many it got; without the cap it would take the host.
    const r = await run(cg.launcherArgv(group, 'pids', [process.execPath, '-e', FORK_BOMB]))
    const forked = Number(/forked (\d+)/.exec(r.out)?.[1] ?? -1)
    assert.ok(forked >= 0 && forked < 32, `forked ${forked}: ${r.out.slice(0, 300)}`)
    const host = await run(['/bin/echo', 'host answers'])
    assert.equal(host.out.trim(), 'host answers')
  },
)

test(
  'limits change on a running unit at once',
  { skip: isRoot ? false : 'needs root (cgroups)' },
  async (t) => {
    const d = detectCgroups()
    assert.ok(d.ok, d.ok ? '' : d.reason)
    const cg = d.cgroups
    t.after(() => cg.removeGroup(group))
    cg.ensure(group, 'upd', { memoryBytes: 64 * MiB, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, pidsMax: 64 })
    cg.update(group, 'upd', { memoryBytes: 128 * MiB, cpuQuotaUs: 20_000, cpuPeriodUs: 100_000, pidsMax: 10 })
    const u = cg.usage(group, 'upd')
    assert.equal(u?.memoryLimitBytes, 128 * MiB)
    assert.equal(u?.pidsMax, 10)
    cg.update(group, 'upd', { memoryBytes: 96 * MiB, cpuQuotaUs: 20_000, cpuPeriodUs: 100_000, pidsMax: 10 })
    assert.equal(cg.usage(group, 'upd')?.memoryLimitBytes, 96 * MiB)
    await cg.remove(group, 'upd')
  },
)

test(
  'CPU weights follow the sizing: a unit weighs its CPUs, its environment the sum of its units',
  { skip: isRoot ? false : 'needs root (cgroups)' },
  async (t) => {
    const d = detectCgroups()
    assert.ok(d.ok, d.ok ? '' : d.reason)
    const cg = d.cgroups
    t.after(() => cg.removeGroup(group))
    const base = { memoryBytes: 64 * MiB, cpuPeriodUs: 100_000, pidsMax: 16 }
    cg.ensure(group, 'w1', { ...base, cpuQuotaUs: 50_000 })
    cg.ensure(group, 'w2', { ...base, cpuQuotaUs: 100_000 })
    const [file, unitOf] =
      cg.version === 1
        ? (['cpu.shares', (n: number) => Math.round(1024 * n)] as const)
        : (['cpu.weight', (n: number) => Math.round(100 * n)] as const)
    const dir = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .find(([, , type, opts]) =>
        cg.version === 1 ? type === 'cgroup' && opts?.split(',').includes('cpu') : type === 'cgroup2',
      )?.[1]
    assert.ok(dir)
    const env = path.join(dir, 'palisade', group)
    const read = (f: string): number => Number(readFileSync(f, 'utf8').trim())
    assert.equal(read(path.join(env, 'w1', file)), unitOf(0.5))
    assert.equal(read(path.join(env, file)), unitOf(1.5))
    await cg.remove(group, 'w2')
    assert.equal(read(path.join(env, file)), unitOf(0.5))
    await cg.remove(group, 'w1')
  },
)

test(
  'on a cgroup v2 host the unified hierarchy gets memory.max, no swap, cpu.max, cpu.weight and pids.max, with the controllers delegated down the tree',
  { skip: isRoot ? false : 'needs root (detection refuses otherwise)' },
  async (t) => {
    // This machine is cgroup v1: the v2 interface files are checked on a directory laid out as the kernel does.
    const root = mkdtempSync(path.join(tmpdir(), 'pal-cg2-'))
    t.after(() => rmSync(root, { recursive: true, force: true }))
    const mounts = path.join(root, 'mounts')
    const unified = path.join(root, 'unified')
    writeFileSync(mounts, `cgroup2 ${unified} cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n`)
    for (const dir of [unified, path.join(unified, 'palisade'), path.join(unified, 'palisade', 'env1')]) {
      mkdirSync(dir, { recursive: true })
      writeFileSync(path.join(dir, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n')
      writeFileSync(path.join(dir, 'cgroup.subtree_control'), '')
    }
    const d = detectCgroups({ mountsFile: mounts })
    assert.ok(d.ok, d.ok ? '' : d.reason)
    assert.equal(d.cgroups.version, 2)
    const unit = path.join(unified, 'palisade', 'env1', 'app-1')
    mkdirSync(unit)
    writeFileSync(path.join(unit, 'memory.swap.max'), 'max')
    d.cgroups.ensure('env1', 'app-1', {
      memoryBytes: 128 * MiB,
      cpuQuotaUs: 50_000,
      cpuPeriodUs: 100_000,
      pidsMax: 99,
    })
    const read = (f: string): string => readFileSync(path.join(unit, f), 'utf8')
    assert.equal(read('memory.max'), String(128 * MiB))
    assert.equal(read('memory.swap.max'), '0')
    assert.equal(read('cpu.max'), '50000 100000')
    assert.equal(read('cpu.weight'), '50')
    assert.equal(read('pids.max'), '99')
    for (const dir of [unified, path.join(unified, 'palisade'), path.join(unified, 'palisade', 'env1')])
      assert.equal(readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8'), '+memory +cpu +pids')
    assert.equal(readFileSync(path.join(unified, 'palisade', 'env1', 'cpu.weight'), 'utf8'), '50')
    const argv = d.cgroups.launcherArgv('env1', 'app-1', ['/bin/true'])
    assert.deepEqual(argv.slice(3), ['palisade-cgroup', '1', path.join(unit, 'cgroup.procs'), '/bin/true'])
    writeFileSync(path.join(unit, 'memory.current'), '4096\n')
    writeFileSync(path.join(unit, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n')
    writeFileSync(path.join(unit, 'cpu.stat'), 'usage_usec 1234\nuser_usec 1000\n')
    writeFileSync(path.join(unit, 'pids.current'), '7\n')
    assert.deepEqual(d.cgroups.usage('env1', 'app-1'), {
      memoryBytes: 4096,
      memoryLimitBytes: 128 * MiB,
      cpuUsageUs: 1234,
      oomKills: 1,
      pids: 7,
      pidsMax: 99,
    })
  },
)

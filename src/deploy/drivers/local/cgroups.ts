/**
 * Control groups for environments' processes: memory, CPU quota and a process-count cap per unit (one app
 * instance, one job, one build, one service), on cgroup v1 (a hierarchy per controller) or v2 (the unified
 * hierarchy). Detected once at start.
 *
 * Layout: `<controller root>/palisade/<sandbox name>/<unit>`, every directory and file root-owned: the tenant
 * cannot raise its own limits (nor does it see /sys/fs/cgroup: the sandbox mounts no /sys). A process enters
 * its unit *before* it runs tenant code: the launcher (`launcherArgv`) is a root shell that writes its own pid
 * into the unit's `cgroup.procs` and then execs the sandbox, so every process the tenant forks is born inside
 * (moving a running process would race its forks).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { ProcessLimits } from '../driver.js'

export interface CgroupUsage {
  readonly memoryBytes: number
  readonly memoryLimitBytes: number
  /** CPU time used by the unit's processes, microseconds. */
  readonly cpuUsageUs: number
  /** Kernel OOM kills inside the unit since it was created. */
  readonly oomKills: number
  readonly pids: number
  readonly pidsMax: number
}

export interface Cgroups {
  readonly version: 1 | 2
  /** Creates (or updates) the unit's cgroup with these limits. */
  ensure(group: string, unit: string, limits: ProcessLimits): void
  /** New limits for an existing unit, effective at once. */
  update(group: string, unit: string, limits: ProcessLimits): void
  /** The argv that enters the unit, then execs `argv` (run as root). */
  launcherArgv(group: string, unit: string, argv: readonly string[]): string[]
  usage(group: string, unit: string): CgroupUsage | null
  /** SIGKILLs every process of the unit (what is left after its sandbox ended). */
  killAll(group: string, unit: string): void
  /** Removes the unit's cgroup once its processes are gone (retried briefly: the kernel reaps them first). */
  remove(group: string, unit: string): Promise<void>
  /** The units of an environment that exist now. */
  units(group: string): string[]
  /** Removes an environment's whole tree (its units first); `once`: no waiting for processes to be reaped. */
  removeGroup(group: string, once?: boolean): Promise<void>
}

/** Why limits could not be enforced, or the cgroups to enforce them with. */
export type CgroupDetection =
  { readonly ok: true; readonly cgroups: Cgroups } | { readonly ok: false; readonly reason: string }

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,79}$/
const TOP = 'palisade'

/** Group and unit names become directory names: only a safe alphabet (never `..`, never a slash). */
function assertName(kind: string, name: string): string {
  if (!NAME_RE.test(name)) throw new Error(`invalid cgroup ${kind} name`)
  return name
}

function readInt(file: string): number {
  try {
    const n = Number(readFileSync(file, 'utf8').trim())
    return Number.isFinite(n) ? n : 0
  } catch {
    return 0
  }
}

function readKeyed(file: string, key: string): number {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.split(/\s+/)
      if (k === key) return Number(v) || 0
    }
  } catch {
    // no such file (an older kernel): counted as zero
  }
  return 0
}

function write(file: string, value: string): void {
  writeFileSync(file, value)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function rmdirRetry(dir: string, tries = 40): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (!existsSync(dir)) return
    try {
      rmdirSync(dir)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || i === tries - 1) return
      await sleep(50)
    }
  }
}

/** `/bin/sh -c` entering each file, then exec: positional arguments only, nothing interpolated into the script. */
function launcher(procFiles: readonly string[], argv: readonly string[]): string[] {
  const script =
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo "$$" > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"'
  return ['/bin/sh', '-c', script, 'palisade-cgroup', String(procFiles.length), ...procFiles, ...argv]
}

interface Mounts {
  readonly v1: ReadonlyMap<string, string>
  readonly v2: string | null
}

/** Where each controller is mounted, from /proc/self/mounts. */
function readMounts(mountsFile: string): Mounts {
  const v1 = new Map<string, string>()
  let v2: string | null = null
  let text = ''
  try {
    text = readFileSync(mountsFile, 'utf8')
  } catch {
    return { v1, v2 }
  }
  for (const line of text.split('\n')) {
    const [, dir, type, options] = line.split(' ')
    if (dir === undefined || options === undefined) continue
    const where = dir.replace(/\\040/g, ' ')
    if (type === 'cgroup2') {
      if (v2 === null || where === '/sys/fs/cgroup') v2 = where
    } else if (type === 'cgroup') {
      for (const o of options.split(','))
        if (['memory', 'cpu', 'cpuacct', 'pids'].includes(o) && !v1.has(o)) v1.set(o, where)
    }
  }
  return { v1, v2 }
}

function createV1(roots: { memory: string; cpu: string; cpuacct: string; pids: string }): Cgroups {
  const controllers = [...new Set([roots.memory, roots.cpu, roots.cpuacct, roots.pids])]
  const dirOf = (root: string, group: string, unit: string): string =>
    path.join(root, TOP, assertName('group', group), assertName('unit', unit))
  const setMemory = (dir: string, bytes: number): void => {
    const limit = path.join(dir, 'memory.limit_in_bytes')
    const memsw = path.join(dir, 'memory.memsw.limit_in_bytes')
    if (!existsSync(memsw)) return write(limit, String(bytes))
    // memory ≤ memory+swap at every step: raise the pair from the top, lower it from the bottom.
    if (bytes >= readInt(limit)) {
      write(memsw, String(bytes))
      write(limit, String(bytes))
    } else {
      write(limit, String(bytes))
      write(memsw, String(bytes))
    }
  }
  const apply = (group: string, unit: string, l: ProcessLimits): void => {
    setMemory(dirOf(roots.memory, group, unit), l.memoryBytes)
    const cpu = dirOf(roots.cpu, group, unit)
    write(path.join(cpu, 'cpu.cfs_period_us'), String(l.cpuPeriodUs))
    write(path.join(cpu, 'cpu.cfs_quota_us'), String(l.cpuQuotaUs))
    write(path.join(cpu, 'cpu.shares'), String(sharesOf(l)))
    write(path.join(dirOf(roots.pids, group, unit), 'pids.max'), String(l.pidsMax))
    rebalanceV1()
  }
  const sharesOf = (l: ProcessLimits): number =>
    Math.max(2, Math.min(262_144, Math.round((1024 * l.cpuQuotaUs) / l.cpuPeriodUs)))
  const rebalanceV1 = (): void =>
    rebalance(
      path.join(roots.cpu, TOP),
      'cpu.shares',
      (dir) => readInt(path.join(dir, 'cpu.shares')),
      (w) => Math.max(2, Math.min(262_144, w)),
    )
  return {
    version: 1,
    ensure(group, unit, l) {
      for (const root of controllers) mkdirSync(dirOf(root, group, unit), { recursive: true, mode: 0o755 })
      apply(group, unit, l)
    },
    update: apply,
    launcherArgv(group, unit, argv) {
      return launcher(
        controllers.map((root) => path.join(dirOf(root, group, unit), 'cgroup.procs')),
        argv,
      )
    },
    usage(group, unit) {
      const mem = dirOf(roots.memory, group, unit)
      if (!existsSync(mem)) return null
      const pids = dirOf(roots.pids, group, unit)
      return {
        memoryBytes: readInt(path.join(mem, 'memory.usage_in_bytes')),
        memoryLimitBytes: readInt(path.join(mem, 'memory.limit_in_bytes')),
        cpuUsageUs: Math.round(readInt(path.join(dirOf(roots.cpuacct, group, unit), 'cpuacct.usage')) / 1000),
        oomKills: readKeyed(path.join(mem, 'memory.oom_control'), 'oom_kill'),
        pids: readInt(path.join(pids, 'pids.current')),
        pidsMax: readInt(path.join(pids, 'pids.max')),
      }
    },
    killAll(group, unit) {
      killPids(path.join(dirOf(roots.pids, group, unit), 'cgroup.procs'))
    },
    async remove(group, unit) {
      for (const root of controllers) await rmdirRetry(dirOf(root, group, unit))
      rebalanceV1()
    },
    units: (group) => unitsIn(path.join(roots.memory, TOP, assertName('group', group))),
    async removeGroup(group, once) {
      for (const root of controllers)
        await removeTree(path.join(root, TOP, assertName('group', group)), once === true ? 1 : 40)
    },
  }
}

function createV2(root: string): Cgroups {
  const dirOf = (group: string, unit: string): string =>
    path.join(root, TOP, assertName('group', group), assertName('unit', unit))
  const enable = (dir: string): void => {
    // Controllers reach a child only when every ancestor delegates them (`cgroup.subtree_control`).
    const wanted = ['memory', 'cpu', 'pids']
    const have = readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/)
    const missing = wanted.filter((c) => !have.includes(c))
    if (missing.length > 0)
      throw new Error(`cgroup v2 controllers not available at ${dir}: ${missing.join(', ')}`)
    write(path.join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '))
  }
  const apply = (group: string, unit: string, l: ProcessLimits): void => {
    const dir = dirOf(group, unit)
    write(path.join(dir, 'memory.max'), String(l.memoryBytes))
    if (existsSync(path.join(dir, 'memory.swap.max'))) write(path.join(dir, 'memory.swap.max'), '0')
    write(path.join(dir, 'cpu.max'), `${l.cpuQuotaUs} ${l.cpuPeriodUs}`)
    write(
      path.join(dir, 'cpu.weight'),
      String(Math.max(1, Math.min(10_000, Math.round((100 * l.cpuQuotaUs) / l.cpuPeriodUs)))),
    )
    write(path.join(dir, 'pids.max'), String(l.pidsMax))
    rebalanceV2()
  }
  const rebalanceV2 = (): void =>
    rebalance(
      path.join(root, TOP),
      'cpu.weight',
      (dir) => readInt(path.join(dir, 'cpu.weight')),
      (w) => Math.max(1, Math.min(10_000, w)),
    )
  return {
    version: 2,
    ensure(group, unit, l) {
      const top = path.join(root, TOP)
      const env = path.join(top, assertName('group', group))
      enable(root)
      mkdirSync(top, { recursive: true, mode: 0o755 })
      enable(top)
      mkdirSync(env, { recursive: true, mode: 0o755 })
      enable(env)
      mkdirSync(dirOf(group, unit), { recursive: true, mode: 0o755 })
      apply(group, unit, l)
    },
    update: apply,
    launcherArgv(group, unit, argv) {
      return launcher([path.join(dirOf(group, unit), 'cgroup.procs')], argv)
    },
    usage(group, unit) {
      const dir = dirOf(group, unit)
      if (!existsSync(dir)) return null
      const max = readFileSync(path.join(dir, 'memory.max'), 'utf8').trim()
      return {
        memoryBytes: readInt(path.join(dir, 'memory.current')),
        memoryLimitBytes: max === 'max' ? 0 : Number(max),
        cpuUsageUs: readKeyed(path.join(dir, 'cpu.stat'), 'usage_usec'),
        oomKills: readKeyed(path.join(dir, 'memory.events'), 'oom_kill'),
        pids: readInt(path.join(dir, 'pids.current')),
        pidsMax: readInt(path.join(dir, 'pids.max')),
      }
    },
    killAll(group, unit) {
      const dir = dirOf(group, unit)
      if (existsSync(path.join(dir, 'cgroup.kill'))) {
        try {
          write(path.join(dir, 'cgroup.kill'), '1')
          return
        } catch {
          // fall back to signalling each process
        }
      }
      killPids(path.join(dir, 'cgroup.procs'))
    },
    async remove(group, unit) {
      await rmdirRetry(dirOf(group, unit))
      rebalanceV2()
    },
    units: (group) => unitsIn(path.join(root, TOP, assertName('group', group))),
    async removeGroup(group, once) {
      await removeTree(path.join(root, TOP, assertName('group', group)), once === true ? 1 : 40)
    },
  }
}

/**
 * CPU weights under contention follow the sizing: a unit weighs its CPUs (1 CPU = the weight of one ordinary
 * process), an environment the sum of its units, the palisade tree the sum of its environments. Without this
 * the whole tree would weigh as much as one process of the host (cgroups compete as one entity with their
 * siblings): a second instance would add no CPU on a busy host, and every tenant together would count as one
 * process against the control plane.
 */
function rebalance(
  top: string,
  file: string,
  unitWeight: (dir: string) => number,
  clamp: (w: number) => number,
): void {
  const children = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => path.join(dir, e.name))
      : []
  let total = 0
  for (const env of children(top)) {
    let sum = 0
    for (const unit of children(env)) sum += unitWeight(unit)
    if (sum === 0) continue
    try {
      write(path.join(env, file), String(clamp(sum)))
    } catch {
      // being removed
    }
    total += sum
  }
  if (total > 0) write(path.join(top, file), String(clamp(total)))
}

function unitsIn(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && NAME_RE.test(e.name))
    .map((e) => e.name)
}

function killPids(procsFile: string): void {
  let text = ''
  try {
    text = readFileSync(procsFile, 'utf8')
  } catch {
    return
  }
  for (const line of text.split('\n')) {
    const pid = Number(line)
    if (!Number.isInteger(pid) || pid <= 1) continue
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

async function removeTree(dir: string, tries: number): Promise<void> {
  if (!existsSync(dir)) return
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) await rmdirRetry(path.join(dir, e.name), tries)
  await rmdirRetry(dir, tries)
}

/**
 * Finds the controllers this host offers and checks that they can be written (root, not a read-only
 * /sys/fs/cgroup). v2 is used when the unified hierarchy holds the memory controller, v1 otherwise.
 */
export function detectCgroups(options: { mountsFile?: string } = {}): CgroupDetection {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root' }
  const m = readMounts(options.mountsFile ?? '/proc/self/mounts')
  const tryMake = (dir: string): string | null => {
    try {
      mkdirSync(path.join(dir, TOP), { recursive: true, mode: 0o755 })
      return null
    } catch (err) {
      return `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`
    }
  }
  if (m.v2 !== null && existsSync(path.join(m.v2, 'cgroup.controllers'))) {
    const controllers = readFileSync(path.join(m.v2, 'cgroup.controllers'), 'utf8').split(/\s+/)
    if (['memory', 'cpu', 'pids'].every((c) => controllers.includes(c))) {
      const err = tryMake(m.v2)
      return err === null ? { ok: true, cgroups: createV2(m.v2) } : { ok: false, reason: err }
    }
  }
  const memory = m.v1.get('memory')
  const cpu = m.v1.get('cpu')
  const cpuacct = m.v1.get('cpuacct')
  const pids = m.v1.get('pids')
  if (memory === undefined || cpu === undefined || cpuacct === undefined || pids === undefined) {
    const missing = ['memory', 'cpu', 'cpuacct', 'pids'].filter((c) => !m.v1.has(c))
    return {
      ok: false,
      reason: `no cgroup v2 with memory, cpu and pids, and cgroup v1 lacks ${missing.join(', ')}`,
    }
  }
  for (const dir of new Set([memory, cpu, cpuacct, pids])) {
    const err = tryMake(dir)
    if (err !== null) return { ok: false, reason: err }
  }
  return { ok: true, cgroups: createV1({ memory, cpu, cpuacct, pids }) }
}

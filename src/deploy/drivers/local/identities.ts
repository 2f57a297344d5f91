import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { exec as run } from './isolation.js'

/** An environment's system identity: its user and group (same number) and the name of both. */
export interface Identity {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/**
 * Environment uids and gids come from a range of their own, far above the host's users and system
 * accounts, so that no id a tenant runs as can be a host account's (root above all).
 */
export const IDENTITY_RANGE = Object.freeze({ first: 610_000, last: 699_999 })

interface Registry {
  /** The next uid to hand out: ids are never handed out twice, even after an environment is deleted. */
  next: number
  envs: Record<string, { name: string; uid: number }>
}

/** Throws unless `id` is a plain, positive number inside the platform's range (never 0, never a host account). */
export function assertEnvironmentId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || !/^\d+$/.test(String(id)))
    throw new Error(`refusing identity ${String(id)}: not a number`)
  if (id < IDENTITY_RANGE.first || id > IDENTITY_RANGE.last)
    throw new Error(`refusing identity ${id}: outside ${IDENTITY_RANGE.first}–${IDENTITY_RANGE.last}`)
  return id
}

async function must(argv: readonly string[]): Promise<void> {
  const r = await run(argv)
  if (r.code !== 0) throw new Error(`${argv[0] ?? ''} failed: ${r.out.trim().slice(0, 400)}`)
}

/** What `getent` says a uid or gid is called, or null when nobody has it. */
async function holderOf(db: 'passwd' | 'group', id: number): Promise<string | null> {
  const r = await run(['getent', db, String(id)])
  return r.code === 0 ? (r.out.split(':')[0] ?? null) : null
}

/** Whether /etc/passwd and /etc/group hold exactly this user and group (name and numbers): nothing to do. */
function accountMatches(id: Identity): boolean {
  try {
    const user = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .filter((l) => l.split(':')[0] === id.name || l.split(':')[2] === String(id.uid))
    const group = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .filter((l) => l.split(':')[0] === id.name || l.split(':')[2] === String(id.gid))
    return (
      user.length === 1 &&
      user[0]?.startsWith(`${id.name}:x:${id.uid}:${id.gid}:`) === true &&
      group.length === 1 &&
      group[0]?.startsWith(`${id.name}:x:${id.gid}:`) === true
    )
  } catch {
    return false
  }
}

/** Numeric ids (third field) taken in /etc/passwd and /etc/group. */
function takenIds(): Set<number> {
  const taken = new Set<number>()
  for (const file of ['/etc/passwd', '/etc/group']) {
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const n = Number(line.split(':')[2])
      if (Number.isInteger(n)) taken.add(n)
    }
  }
  return taken
}

/**
 * Allocates each environment's uid/gid once, stores it (`<data>/sandboxes/identities.json`, root 0600),
 * and keeps the matching system user and group in place. Allocation never asks the system for a
 * number (no `id -u` output to misread): it is decided here, checked, and then created with that number.
 * Work is serialised: concurrent useradd calls race on /etc/passwd.
 */
export function createIdentities(dataDir: string) {
  const dir = path.join(dataDir, 'sandboxes')
  const file = path.join(dir, 'identities.json')
  let chain: Promise<unknown> = Promise.resolve()

  function load(): Registry {
    if (!existsSync(file)) return { next: IDENTITY_RANGE.first, envs: {} }
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Registry
    assertEnvironmentId(parsed.next)
    return parsed
  }

  function save(reg: Registry): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(reg), { mode: 0o600 })
    renameSync(tmp, file)
  }

  function serial<T>(work: () => Promise<T>): Promise<T> {
    const next = chain.then(work, work)
    chain = next.catch(() => undefined)
    return next
  }

  async function ensureAccount(id: Identity): Promise<void> {
    // Fast path (every start prepares every environment): the account and group are already exactly these.
    if (accountMatches(id)) return
    // An account of this name with other numbers is a leftover of an earlier installation of the same
    // environment (names derive from environment ids): it goes, so the name and numbers agree.
    const [byName, groupByName] = await Promise.all([
      run(['getent', 'passwd', id.name]),
      run(['getent', 'group', id.name]),
    ])
    if (byName.code === 0 && Number(byName.out.split(':')[2]) !== id.uid)
      await run(['userdel', '--', id.name])
    if (groupByName.code === 0 && Number(groupByName.out.split(':')[2]) !== id.gid)
      await run(['groupdel', '--', id.name])
    const [user, group] = await Promise.all([holderOf('passwd', id.uid), holderOf('group', id.gid)])
    if (group === null) await must(['groupadd', '--gid', String(id.gid), '--', id.name])
    else if (group !== id.name) throw new Error(`gid ${id.gid} belongs to ${group}`)
    if (user === null)
      await must([
        'useradd',
        '--uid',
        String(id.uid),
        '--gid',
        String(id.gid),
        '--no-create-home',
        '--no-user-group',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        '--',
        id.name,
      ])
    else if (user !== id.name) throw new Error(`uid ${id.uid} belongs to ${user}`)
  }

  return {
    /** The environment's identity, allocated on first use; its account exists when this returns. */
    ensure(environmentId: string, name: string): Promise<Identity> {
      return serial(async () => {
        for (let attempt = 0; ; attempt++) {
          const reg = load()
          let entry = reg.envs[environmentId]
          if (!entry) {
            // Skip numbers someone else on the host holds (an administrator's account, another data dir's).
            const taken = takenIds()
            let uid = reg.next
            while (taken.has(uid)) assertEnvironmentId(++uid)
            entry = { name, uid: assertEnvironmentId(uid) }
            reg.envs[environmentId] = entry
            reg.next = uid + 1
            save(reg)
          }
          const id: Identity = { name: entry.name, uid: assertEnvironmentId(entry.uid), gid: entry.uid }
          try {
            await ensureAccount(id)
            return id
          } catch (err) {
            // Another installation on this host took the number at the same moment: take the next one.
            if (attempt >= 20 || (await holderOf('passwd', id.uid)) === id.name) throw err
            delete reg.envs[environmentId]
            save(reg)
          }
        }
      })
    },

    /** The stored identity, without creating anything. */
    find(environmentId: string): Identity | undefined {
      const entry = load().envs[environmentId]
      return entry ? { name: entry.name, uid: assertEnvironmentId(entry.uid), gid: entry.uid } : undefined
    },

    /** Removes the account and forgets the environment; its numbers are not handed out again. */
    remove(environmentId: string): Promise<void> {
      return serial(async () => {
        const reg = load()
        const entry = reg.envs[environmentId]
        if (!entry) return
        await run(['userdel', '--', entry.name])
        await run(['groupdel', '--', entry.name])
        delete reg.envs[environmentId]
        save(reg)
      })
    },
  }
}

export type Identities = ReturnType<typeof createIdentities>

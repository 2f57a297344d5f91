import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { assertEnvironmentId, type Identity } from './identities.js'

/** A directory of the host shown inside the sandbox. */
export interface Mount {
  readonly source: string
  readonly target: string
  readonly writable: boolean
}

export interface SandboxSpec {
  readonly identity: Identity
  /** The named network namespace the processes join (`ip netns`). */
  readonly netns: string
  readonly mounts: readonly Mount[]
  /** Working directory inside the sandbox. */
  readonly cwd: string
  readonly argv: readonly string[]
  /** Builds and jobs die with the control plane; apps outlive a control-plane restart. */
  readonly dieWithParent: boolean
  /** Root-owned directory written by `writeAccountFiles`: the sandbox's own files under /etc. */
  readonly etcDir: string
}

/**
 * Sizes of the sandbox's memory-backed directories. Threat: tmpfs lives in the host's RAM; unbounded, one
 * tenant filling its /tmp takes memory from every other tenant and the control plane.
 */
export const TMPFS_BYTES = Object.freeze({
  tmp: 512 * 1024 ** 2,
  varTmp: 256 * 1024 ** 2,
  shm: 64 * 1024 ** 2,
})

/** Where releases and scratch builds appear inside every sandbox (the app's working directory). */
export const APP_DIR = '/app'
/** HOME inside the sandbox. */
export const HOME_DIR = '/home/app'

/**
 * Public, read-only parts of the host every tenant process may see: the OS's programs and libraries,
 * CA certificates and the tools' own configuration. Nothing of the platform's data, no other tenant,
 * no host account list.
 */
const READ_ONLY_SYSTEM = ['/usr', '/etc/ssl', '/etc/ca-certificates', '/etc/alternatives', '/etc/php']
const MERGED_USR_LINKS: readonly [string, string][] = [
  ['usr/bin', '/bin'],
  ['usr/sbin', '/sbin'],
  ['usr/lib', '/lib'],
  ['usr/lib64', '/lib64'],
]

/**
 * Variables the dynamic loader and libc read (glibc's list of those it ignores for set-id programs, and every
 * `LD_*`). Root starts the sandbox (launcher, nsenter, bwrap, setpriv) with the environment the tenant's process
 * will get; threat: `LD_PRELOAD=<a library in the tenant's release>` set as an environment variable would run
 * tenant code as root before privileges are dropped.
 */
const LOADER_VARIABLES = new Set([
  'GCONV_PATH',
  'GETCONF_DIR',
  'GLIBC_TUNABLES',
  'HOSTALIASES',
  'LOCALDOMAIN',
  'LOCPATH',
  'MALLOC_TRACE',
  'NIS_PATH',
  'NLSPATH',
  'RESOLV_HOST_CONF',
  'RES_OPTIONS',
  'TMPDIR',
  'TZDIR',
])

/** The environment without what could make a root program load or read tenant-chosen files. */
export function rootSafeEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('LD_') && !LOADER_VARIABLES.has(k)) out[k] = v
  return out
}

/**
 * The files the sandbox sees under /etc: an account list naming only root and the environment, and name
 * lookup from a hosts file (`localhost` and the sandbox's hostname; everything else goes through the
 * egress gateway's proxy). Tools such as mariadb-install-db refuse to run when they cannot resolve them.
 */
const ETC_FILES = ['passwd', 'group', 'hosts', 'nsswitch.conf'] as const

/** Writes the sandbox's own /etc files (root-owned, 0644) into `dir`. */
export function writeAccountFiles(dir: string, identity: Identity): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const content: Record<(typeof ETC_FILES)[number], string> = {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\napp:x:${identity.uid}:${identity.gid}:app:${HOME_DIR}:/bin/sh\n`,
    group: `root:x:0:\napp:x:${identity.gid}:\n`,
    hosts: '127.0.0.1\tlocalhost app\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    'nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n',
  }
  for (const name of ETC_FILES) writeFileSync(path.join(dir, name), content[name], { mode: 0o644 })
}

/**
 * The argv that runs `spec.argv` in an environment's sandbox: the environment's network namespace
 * (nsenter), new mount, PID, IPC and UTS namespaces with only the listed directories (bubblewrap), and
 * then the environment's uid/gid with no capabilities and no way to gain any (setpriv). Root performs
 * the mounts; every source is a root-owned path or a directory whose parent the tenant cannot write.
 */
export function sandboxArgv(spec: SandboxSpec): string[] {
  const uid = assertEnvironmentId(spec.identity.uid)
  const gid = assertEnvironmentId(spec.identity.gid)
  const args: string[] = [
    // Absolute: root runs these with the tenant's environment, whose PATH the tenant chooses.
    '/usr/bin/nsenter',
    `--net=/run/netns/${spec.netns}`,
    '--',
    '/usr/bin/bwrap',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'app',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--perms',
    '1777',
    '--size',
    String(TMPFS_BYTES.tmp),
    '--tmpfs',
    '/tmp',
    '--perms',
    '1777',
    '--size',
    String(TMPFS_BYTES.varTmp),
    '--tmpfs',
    '/var/tmp',
    '--perms',
    '1777',
    '--size',
    String(TMPFS_BYTES.shm),
    '--tmpfs',
    '/dev/shm',
  ]
  if (spec.dieWithParent) args.push('--die-with-parent')
  const system = READ_ONLY_SYSTEM.filter((dir) => existsSync(dir))
  // bubblewrap makes missing parents of a mount point private (0700): make them enterable first.
  const made = new Set(['/', '/tmp', '/var/tmp', '/proc', '/dev', '/dev/shm'])
  for (const target of [...system, '/etc/passwd', ...spec.mounts.map((m) => m.target)]) {
    for (let dir = path.posix.dirname(target); !made.has(dir); dir = path.posix.dirname(dir)) made.add(dir)
  }
  for (const dir of [...made]
    .filter((d) => !['/', '/tmp', '/var/tmp', '/proc', '/dev', '/dev/shm'].includes(d))
    .sort())
    args.push('--perms', '0755', '--dir', dir)
  for (const dir of system) args.push('--ro-bind', dir, dir)
  for (const [target, link] of MERGED_USR_LINKS) args.push('--symlink', target, link)
  for (const name of ETC_FILES) args.push('--ro-bind', path.join(spec.etcDir, name), `/etc/${name}`)
  for (const m of spec.mounts) args.push(m.writable ? '--bind' : '--ro-bind', m.source, m.target)
  args.push(
    '--chdir',
    spec.cwd,
    '--',
    '/usr/bin/setpriv',
    `--reuid=${uid}`,
    `--regid=${gid}`,
    '--clear-groups',
    '--no-new-privs',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--',
    ...spec.argv,
  )
  return args
}

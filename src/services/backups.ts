import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  createReadStream,
  createWriteStream,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { PassThrough, Transform, type Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { diffChanges, type AuditLog } from '../audit/index.js'
import { actorOf, PLATFORM, type Principal } from '../iam/index.js'
import type { Database, Kysely } from '../store/index.js'
import type { BackupSchedulesTable, BackupsTable } from './tables.js'
import { NAME_PATTERN, type Tenancy } from '../tenancy/index.js'
import type { Clock } from '../shared/clock.js'
import { PLATFORM_CONTEXT, type RequestContext } from '../shared/context.js'
import {
  ConflictError,
  InvalidError,
  NotFoundError,
  TooLargeError,
  UnprocessableError,
} from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import type { Logger } from '../shared/log.js'
import type { SecretBox } from '../shared/secret-box.js'
import { freezeTree } from '../shared/frozen-tree.js'
import { packRootTree, type TenantFiles } from '../shared/tenant-files.js'
import { SERVICE_TYPES, type Engine, type ServiceType } from './engines/engine.js'
import { SERVICE_ERRORS } from './errors.js'
import { cleanEnv } from './exec.js'
import type { ServiceOps } from './services.js'
import { crashPoint } from '../shared/crash-point.js'
import { findJournals, removeJournal, writeJournal, type RestoreJournal } from './restore-journal.js'

/**
 * Archive formats. Both end with AES-256-GCM ciphertext of a gzipped tar and the 16-byte GCM tag.
 * - v1: `PALBK001` + 12-byte IV. The data key lives only in the `backups` row (so it cannot be imported).
 * - v2: `PALBK002` + header length (u32 BE) + header JSON `{format, backupId, key}` + 12-byte IV. `key` is
 *   the data key sealed with the master key (SecretBox, context bound to the archive's backup id), so any
 *   installation holding the same master key can import the archive. Everything before the IV is the GCM
 *   associated data: a header swapped from another archive fails authentication.
 */
const MAGIC_V1 = Buffer.from('PALBK001', 'ascii')
const MAGIC_V2 = Buffer.from('PALBK002', 'ascii')
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT_V1 = 'palisade-backup/1'
const FORMAT_V2 = 'palisade-backup/2'
/** A header is ~200 bytes; anything much larger is not one of ours (and is not read into memory). */
const MAX_HEADER_BYTES = 4096
const BACKUP_ID = /^bkp_[a-z0-9]{20}$/
const ENV_ID = /^env_[a-z0-9]{20}$/
const SERVICE_NAME = new RegExp(NAME_PATTERN)

export const BACKUP_STATUSES = ['running', 'succeeded', 'failed'] as const
export type BackupStatus = (typeof BACKUP_STATUSES)[number]
/** How a backup came to be: asked for, made by the schedule, or uploaded. Only `scheduled` ones are pruned. */
export const BACKUP_ORIGINS = ['manual', 'scheduled', 'import'] as const
export type BackupOrigin = (typeof BACKUP_ORIGINS)[number]

export const BACKUP_SCHEDULE_LIMITS = Object.freeze({
  everyHours: [1, 168] as const,
  keep: [1, 100] as const,
})
/** What an environment without a stored schedule reports (and what a first PUT fills in). */
const DEFAULT_SCHEDULE = Object.freeze({ enabled: false, everyHours: 24, keep: 7, files: true })

export interface BackupContents {
  readonly services: ReadonlyArray<{
    readonly id: string
    readonly name: string
    readonly type: ServiceType
    readonly version: string
    readonly file: string
  }>
  /** Persistent directories (relative to the environment's shared dir). */
  readonly files: readonly string[]
}

export interface Backup {
  readonly id: string
  readonly environmentId: string
  readonly status: BackupStatus
  readonly reason: string | null
  readonly contents: BackupContents
  readonly sizeBytes: number | null
  /** SHA-256 of the encrypted archive, hex. */
  readonly sha256: string | null
  readonly createdAt: string
  readonly finishedAt: string | null
  readonly origin: BackupOrigin
  /** For imports: the environment the archive was made in (may belong to another installation). */
  readonly sourceEnvironmentId: string | null
}

export interface BackupSchedule {
  readonly environmentId: string
  readonly enabled: boolean
  readonly everyHours: number
  /** Succeeded scheduled backups kept; older ones are deleted after each scheduled run. */
  readonly keep: number
  readonly files: boolean
  readonly nextRunAt: string | null
  readonly lastRunAt: string | null
  readonly lastBackupId: string | null
  readonly lastError: string | null
  readonly updatedAt: string | null
}

export interface BackupScheduleInput {
  readonly enabled: boolean
  readonly everyHours: number
  readonly keep: number
  readonly files: boolean
}

export interface BackupInput {
  /** Service names to dump (default: every running service). */
  readonly services?: readonly string[]
  /** Include the environment's persistent directories (default true). */
  readonly files?: boolean
}

interface Manifest extends BackupContents {
  readonly format: string
  readonly backupId: string
  readonly environmentId: string
  readonly createdAt: string
  /** Path inside the archive → SHA-256 (hex) of every regular file except the manifest. */
  readonly checksums: Readonly<Record<string, string>>
}

/** A backup or restore that another service runs as one step of its own action. */
export interface StepOfAction {
  /** The caller's audit event records this operation (and names the backup): it writes no event of its own. */
  readonly recordedByCaller: true
}

export interface BackupsDeps {
  /** Tenant-writable directories (persistent data): read and written only as the environment's user. */
  readonly files?: TenantFiles
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly clock: Clock
  readonly tenancy: Tenancy
  readonly secrets: SecretBox
  readonly dataDir: string
  readonly services: ServiceOps
  readonly engines: Readonly<Record<ServiceType, Engine>>
  readonly logger?: Logger
  /**
   * Puts the environment in maintenance (the edge answers 503) until the returned function runs; that
   * function restores the previous state. Absent in set-ups without an edge.
   */
  readonly holdMaintenance?: (environmentId: string) => Promise<() => Promise<void>>
  /** Largest archive an import accepts, bytes (default 2 GiB). */
  readonly importLimitBytes?: number
  /** The environment's maintenance flag now, and setting it (crash recovery of a restore puts it back). */
  readonly maintenanceOf?: (environmentId: string) => Promise<boolean>
  readonly setMaintenance?: (environmentId: string, on: boolean) => Promise<void>
  /**
   * Whether this instance takes over the restore journals and scratch files an earlier control plane left
   * (default true). The sync's own instance does not: the services' instance rolls them back, once; a second
   * instance holding them would refuse restores of those environments until the next start.
   */
  readonly recoversLeftovers?: boolean
}

export const DEFAULT_IMPORT_LIMIT_BYTES = 2 * 1024 * 1024 * 1024

const keyContext = (id: string): string => `backup:${id}:key`
/** The v2 header's sealed key is bound to the archive (its original backup id), not to any row. */
const archiveKeyContext = (archiveId: string): string => `${FORMAT_V2}:${archiveId}:key`

/** What precedes the ciphertext of an archive. */
interface ArchiveHead {
  readonly version: 1 | 2
  /** v2: the backup id the archive was made as (authenticated); v1: unknown until a row vouches for it. */
  readonly archiveId: string | null
  /** v2: the data key sealed with the master key. */
  readonly sealedKey: string | null
  /** v2: the bytes authenticated as associated data (magic, length and header). */
  readonly prefix: Buffer | null
  readonly iv: Buffer
  /** Offset of the first ciphertext byte. */
  readonly bodyStart: number
  readonly tag: Buffer
  readonly size: number
}

function toBackup(r: BackupsTable): Backup {
  return {
    id: r.id,
    environmentId: r.environment_id,
    status: r.status as BackupStatus,
    reason: r.reason,
    contents: JSON.parse(r.contents) as BackupContents,
    sizeBytes: r.size_bytes,
    sha256: r.sha256,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    origin: (BACKUP_ORIGINS as readonly string[]).includes(r.origin) ? (r.origin as BackupOrigin) : 'manual',
    sourceEnvironmentId: r.source_environment_id,
  }
}

function toSchedule(envId: string, r: BackupSchedulesTable | undefined): BackupSchedule {
  if (!r)
    return {
      environmentId: envId,
      ...DEFAULT_SCHEDULE,
      nextRunAt: null,
      lastRunAt: null,
      lastBackupId: null,
      lastError: null,
      updatedAt: null,
    }
  return {
    environmentId: r.environment_id,
    enabled: r.enabled === 1,
    everyHours: r.every_hours,
    keep: r.keep,
    files: r.files === 1,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
    lastBackupId: r.last_backup_id,
    lastError: r.last_error,
    updatedAt: r.updated_at,
  }
}

/** Reads the part of an archive before the ciphertext, and its tag. Throws a plain Error on junk. */
function readHead(file: string): ArchiveHead {
  const size = statSync(file).size
  const fd = openSync(file, 'r')
  try {
    const read = (length: number, position: number): Buffer => {
      const b = Buffer.alloc(length)
      if (position + length > size || readSync(fd, b, 0, length, position) !== length)
        throw new Error('too short')
      return b
    }
    const magic = read(8, 0)
    const tag = (): Buffer => read(TAG_BYTES, size - TAG_BYTES)
    if (magic.equals(MAGIC_V1)) {
      if (size < 8 + IV_BYTES + TAG_BYTES) throw new Error('too short')
      return {
        version: 1,
        archiveId: null,
        sealedKey: null,
        prefix: null,
        iv: read(IV_BYTES, 8),
        bodyStart: 8 + IV_BYTES,
        tag: tag(),
        size,
      }
    }
    if (!magic.equals(MAGIC_V2)) throw new Error('not a Palisade backup')
    const length = read(4, 8).readUInt32BE(0)
    if (length < 2 || length > MAX_HEADER_BYTES) throw new Error('bad header length')
    const headerBytes = read(length, 12)
    const bodyStart = 12 + length + IV_BYTES
    if (size < bodyStart + TAG_BYTES) throw new Error('too short')
    let header: unknown
    try {
      header = JSON.parse(headerBytes.toString('utf8'))
    } catch {
      throw new Error('unreadable header')
    }
    const h = header as { format?: unknown; backupId?: unknown; key?: unknown }
    if (
      h.format !== FORMAT_V2 ||
      typeof h.backupId !== 'string' ||
      !BACKUP_ID.test(h.backupId) ||
      typeof h.key !== 'string' ||
      h.key.length > 512
    )
      throw new Error('unknown header')
    return {
      version: 2,
      archiveId: h.backupId,
      sealedKey: h.key,
      prefix: Buffer.concat([magic, read(4, 8), headerBytes]),
      iv: read(IV_BYTES, 12 + length),
      bodyStart,
      tag: tag(),
      size,
    }
  } finally {
    closeSync(fd)
  }
}

/** Persistent directory names as the tenancy validates them (relative, no `.`/`..`, plain characters). */
function isSafeRelative(p: string): boolean {
  const parts = p.split('/')
  return (
    p.length > 0 &&
    p.length <= 200 &&
    /^[A-Za-z0-9._/-]+$/.test(p) &&
    parts.every((x) => x !== '' && x !== '.' && x !== '..')
  )
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256')
  await pipeline(createReadStream(file), h)
  return h.digest('hex')
}

/** Regular files below `root`, as paths relative to it (symbolic links are never followed). */
function regularFiles(root: string, rel = ''): string[] {
  const out: string[] = []
  for (const name of readdirSync(path.join(root, rel))) {
    const p = path.join(rel, name)
    const st = lstatSync(path.join(root, p))
    if (st.isDirectory()) out.push(...regularFiles(root, p))
    else if (st.isFile()) out.push(p)
  }
  return out
}

function tarProcess(args: readonly string[]): ReturnType<typeof spawn> {
  return spawn('tar', args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv() })
}

function exitOf(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-2000)))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} exited with ${code}: ${stderr.trim()}`)),
    )
  })
}

/** Counts and hashes what passes through. */
function tap(h: ReturnType<typeof createHash>, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk)
      counter.bytes += chunk.length
      cb(null, chunk)
    },
  })
}

/**
 * Encrypted backups of an environment: logical dumps of its services (mariadb-dump, pg_dump, Redis RDB)
 * and its persistent directories, in a gzipped tar with a manifest of SHA-256 checksums, sealed with
 * AES-256-GCM under a random key per archive (itself sealed with the master key in the store). A restore
 * first decrypts and verifies the whole archive into a staging directory: a damaged archive changes nothing.
 */
export function createBackups(deps: BackupsDeps) {
  const { db, audit, clock, tenancy, secrets, services, engines } = deps
  const work = new Map<string, Promise<void>>()
  const dirOf = (envId: string): string => path.join(deps.dataDir, 'backups', envId)
  // Backups left `running` by an earlier control plane are the ones created before this one started; its
  // restore journals and scratch files are those on disk now (a restore of this control plane makes its own).
  const bootedAt = clock.now().toISOString()
  const backupsRoot = path.join(deps.dataDir, 'backups')
  const recovers = deps.recoversLeftovers !== false
  const leftJournals = recovers ? findJournals(backupsRoot) : []
  const recovering = new Set(leftJournals.map((j) => j.journal.environmentId))
  const leftScratch = (recovers && existsSync(backupsRoot) ? readdirSync(backupsRoot) : []).flatMap((env) => {
    const dir = path.join(backupsRoot, env)
    return (lstatSync(dir).isDirectory() ? readdirSync(dir) : [])
      .filter((name) => /\.(work|part|import|verify|restore)$/.test(name))
      .map((name) => path.join(dir, name))
  })
  const archiveOf = (r: { environment_id: string; id: string }): string =>
    path.join(dirOf(r.environment_id), `${r.id}.pbk`)
  const notFound = (): NotFoundError =>
    new NotFoundError(SERVICE_ERRORS.backupNotFound, 'backup not found', { publicCode: 'not_found' })

  async function load(
    principal: Principal,
    id: string,
    action: 'service.read' | 'service.manage',
  ): Promise<BackupsTable> {
    const r = await db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst()
    if (!r) throw notFound()
    await tenancy.environments.load(principal, r.environment_id, action)
    return r
  }

  function tenantFiles(): TenantFiles {
    if (!deps.files) throw new Error('persistent directories need the deploy driver (files)')
    return deps.files
  }

  /** A persistent directory's contents into `dst` (root-owned staging), as its environment's user packed it. */
  async function copyPersistentOut(envId: string, dir: string, dst: string): Promise<void> {
    const files = tenantFiles()
    await files.makeDir(envId, `shared/${dir}`)
    const packed = files.pack(envId, `shared/${dir}`)
    await Promise.all([
      packed.done,
      freezeTree(packed.stream, dst, {
        gid: null,
        maxBytes: Number.MAX_SAFE_INTEGER,
        maxEntries: 5_000_000,
        links: false,
      }),
    ])
  }

  /** Replaces a persistent directory's contents with `src` (root-owned staging), unpacked as its user. */
  async function copyPersistentIn(envId: string, dir: string, src: string): Promise<void> {
    await tenantFiles().unpack(envId, `shared/${dir}`, packRootTree(src))
  }

  /**
   * Dumps the services a restore replaces and copies the persistent directories it replaces into a root-only
   * safety directory, then writes the restore journal (restore-journal.ts). Nothing is replaced before.
   */
  async function takeSafetyCopy(
    envId: string,
    backupId: string,
    targets: ReadonlyArray<{ id: string; type: ServiceType }>,
    files: readonly string[],
  ): Promise<RestoreJournal> {
    const safetyDir = path.join(dirOf(envId), `${backupId}.safety`)
    rmSync(safetyDir, { recursive: true, force: true })
    mkdirSync(path.join(safetyDir, 'services'), { recursive: true, mode: 0o700 })
    const dumped: Array<{ id: string; type: ServiceType; file: string }> = []
    for (const t of targets) {
      const file = path.join(safetyDir, 'services', `${t.id}.${engines[t.type].dumpExtension}`)
      await services.exclusive(t.id, async ({ inst, creds }) => engines[t.type].dump(inst, creds, file))
      dumped.push({ ...t, file })
    }
    for (const d of files) {
      const dst = path.join(safetyDir, 'files', d)
      mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 })
      await copyPersistentOut(envId, d, dst)
    }
    const journal: RestoreJournal = {
      v: 1,
      environmentId: envId,
      backupId,
      safetyDir,
      services: dumped,
      files: [...files],
      maintenanceBefore: deps.maintenanceOf ? await deps.maintenanceOf(envId) : false,
      startedAt: clock.now().toISOString(),
    }
    writeJournal(dirOf(envId), journal)
    return journal
  }

  /** The environment's host name for log lines (its id when the environment is gone). */
  async function hostOf(envId: string): Promise<string> {
    const row = await db
      .selectFrom('environments')
      .select('host')
      .where('id', '=', envId)
      .executeTakeFirst()
      .catch(() => undefined)
    return row?.host ?? envId
  }

  /** Puts the safety copy of a journal back (services, then persistent directories) and removes the journal. */
  async function rollBackRestore(journal: RestoreJournal): Promise<void> {
    for (const s of journal.services)
      await services.exclusive(s.id, async ({ inst, creds, control }) =>
        engines[s.type].restore(inst, creds, s.file, control),
      )
    for (const d of journal.files)
      await copyPersistentIn(journal.environmentId, d, path.join(journal.safetyDir, 'files', d))
    removeJournal(journal, dirOf(journal.environmentId))
  }

  async function build(r: BackupsTable, contents: BackupContents): Promise<void> {
    const staging = path.join(dirOf(r.environment_id), `${r.id}.work`)
    rmSync(staging, { recursive: true, force: true })
    mkdirSync(path.join(staging, 'services'), { recursive: true, mode: 0o700 })
    try {
      for (const s of contents.services) {
        await services.exclusive(s.id, async ({ inst, creds }) =>
          engines[s.type].dump(inst, creds, path.join(staging, s.file)),
        )
      }
      for (const d of contents.files) {
        const dst = path.join(staging, 'files', d)
        mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 })
        // Packed by the environment's user in its sandbox, unpacked here into root-owned staging; symbolic
        // links are left out (they could point anywhere once restored elsewhere).
        await copyPersistentOut(r.environment_id, d, dst)
      }
      const checksums: Record<string, string> = {}
      for (const f of regularFiles(staging)) checksums[f] = await sha256File(path.join(staging, f))
      const manifest: Manifest = {
        format: FORMAT_V2,
        backupId: r.id,
        environmentId: r.environment_id,
        createdAt: r.created_at,
        ...contents,
        checksums,
      }
      writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2), { mode: 0o600 })

      const plainKey = secrets.open(r.data_key, keyContext(r.id))
      const key = Buffer.from(plainKey, 'base64')
      const header = Buffer.from(
        JSON.stringify({
          format: FORMAT_V2,
          backupId: r.id,
          key: secrets.seal(plainKey, archiveKeyContext(r.id)),
        }),
      )
      const length = Buffer.alloc(4)
      length.writeUInt32BE(header.length, 0)
      const prefix = Buffer.concat([MAGIC_V2, length, header])
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(prefix)
      const part = archiveOf(r) + '.part'
      const out = createWriteStream(part, { mode: 0o600 })
      const hash = createHash('sha256')
      const counter = { bytes: 0 }
      out.write(prefix)
      out.write(iv)
      hash.update(prefix).update(iv)
      counter.bytes += prefix.length + IV_BYTES
      const tar = tarProcess([
        '--create',
        '--file=-',
        `--directory=${staging}`,
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--sort=name',
        '.',
      ])
      const tarDone = exitOf(tar, 'tar')
      await pipeline(
        tar.stdout as Readable,
        createGzip({ level: 6 }),
        cipher,
        tap(hash, counter),
        out as Writable,
        { end: false },
      )
      await tarDone
      const tag = cipher.getAuthTag()
      hash.update(tag)
      counter.bytes += tag.length
      await new Promise<void>((resolve, reject) => out.end(tag, () => resolve()).on('error', reject))
      renameSync(part, archiveOf(r))
      await db
        .updateTable('backups')
        .set({
          status: 'succeeded',
          size_bytes: counter.bytes,
          sha256: hash.digest('hex'),
          finished_at: clock.now().toISOString(),
        })
        .where('id', '=', r.id)
        .execute()
      deps.logger?.info(
        { backup: r.id, environmentId: r.environment_id, sizeBytes: counter.bytes },
        `backup ${r.id} of ${await hostOf(r.environment_id)} created (${formatBytes(counter.bytes)})`,
      )
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000)
      deps.logger?.error(
        { backup: r.id, environmentId: r.environment_id, err: reason },
        `backup ${r.id} of ${await hostOf(r.environment_id)} failed: ${reason}`,
      )
      rmSync(archiveOf(r) + '.part', { force: true })
      await db
        .updateTable('backups')
        .set({ status: 'failed', reason, finished_at: clock.now().toISOString() })
        .where('id', '=', r.id)
        .execute()
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }

  /** Refused archives: 400 on restore of a stored backup (as before), 422 on import (well-formed upload, bad content). */
  const corrupt = (
    why: string,
    cause?: unknown,
    kind: 'invalid' | 'unprocessable' = 'invalid',
  ): InvalidError | UnprocessableError => {
    const message = `the archive is damaged or was tampered with (${why}); nothing was ${kind === 'invalid' ? 'restored' : 'imported'}`
    const options = { publicCode: 'backup_corrupt', ...(cause === undefined ? {} : { cause }) }
    return kind === 'invalid'
      ? new InvalidError(SERVICE_ERRORS.backupCorrupt, message, options)
      : new UnprocessableError(SERVICE_ERRORS.backupCorrupt, message, options)
  }

  /** Checks what a manifest names before anything acts on it: only known types, plain names, relative paths. */
  function checkManifest(raw: unknown, archiveId: string, format: string): string | null {
    if (typeof raw !== 'object' || raw === null) return 'no manifest'
    const m = raw as Partial<Record<keyof Manifest, unknown>> & { services?: unknown; files?: unknown }
    if (m.format !== format || m.backupId !== archiveId) return 'the manifest belongs to another archive'
    if (typeof m.environmentId !== 'string' || !ENV_ID.test(m.environmentId)) return 'bad environment id'
    if (
      !Array.isArray(m.services) ||
      m.services.length > 10 ||
      !Array.isArray(m.files) ||
      m.files.length > 50
    )
      return 'bad contents'
    for (const entry of m.services as unknown[]) {
      if (typeof entry !== 'object' || entry === null) return 'bad service entry'
      const s = entry as Record<string, unknown>
      if (
        typeof s.id !== 'string' ||
        s.id.length > 64 ||
        typeof s.name !== 'string' ||
        !SERVICE_NAME.test(s.name) ||
        typeof s.type !== 'string' ||
        !(SERVICE_TYPES as readonly string[]).includes(s.type) ||
        typeof s.version !== 'string' ||
        s.version.length > 20 ||
        s.file !== `services/${s.name}.${engines[s.type as ServiceType].dumpExtension}`
      )
        return 'bad service entry'
    }
    const names = (m.services as Array<{ name: string }>).map((s) => s.name)
    if (new Set(names).size !== names.length) return 'duplicate service'
    if (!(m.files as unknown[]).every((f) => typeof f === 'string' && isSafeRelative(f)))
      return 'bad directory entry'
    if (typeof m.checksums !== 'object' || m.checksums === null) return 'no checksums'
    return null
  }

  /**
   * Decrypts, authenticates and unpacks the whole archive into `staging`, then checks the manifest and
   * every checksum. `keyOf` answers the data key for the archive's head (the row's, or the header's).
   */
  async function unpackVerified(
    file: string,
    head: ArchiveHead,
    key: Buffer,
    expect: { archiveId: string; aad: Buffer; format: string },
    staging: string,
    kind: 'invalid' | 'unprocessable',
  ): Promise<Manifest> {
    const decipher = createDecipheriv('aes-256-gcm', key, head.iv)
    decipher.setAAD(expect.aad)
    decipher.setAuthTag(head.tag)
    // Authenticate first, unpack after: the whole ciphertext is decrypted to a private file and its GCM tag
    // checked (decipher.final) before gunzip or tar see a single byte. GCM is malleable until that check, so
    // an uploader who knows an archive's contents could otherwise steer what tar extracts.
    const plain = `${staging}.tgz`
    try {
      await pipeline(
        createReadStream(file, { start: head.bodyStart, end: head.size - TAG_BYTES - 1 }),
        decipher,
        createWriteStream(plain, { mode: 0o600 }),
      )
    } catch (error) {
      rmSync(plain, { force: true })
      deps.logger?.warn(
        { archive: expect.archiveId, err: error instanceof Error ? error.message : String(error) },
        'backup archive did not authenticate',
      )
      throw corrupt('authentication failed', error, kind)
    }
    mkdirSync(staging, { recursive: true, mode: 0o700 })
    const tar = tarProcess([
      '--extract',
      '--file=-',
      // Read to the end of the stream, past the end-of-archive blocks: tar otherwise may exit before the
      // record padding and close the pipe under gunzip (ERR_STREAM_PREMATURE_CLOSE, intermittently).
      '--ignore-zeros',
      `--directory=${staging}`,
      '--no-same-owner',
      '--no-same-permissions',
      '--no-overwrite-dir',
    ])
    const tarDone = exitOf(tar, 'tar')
    try {
      await pipeline(createReadStream(plain), createGunzip(), tar.stdin as Writable)
      await tarDone
    } catch (error) {
      tar.kill('SIGKILL')
      await tarDone.catch(() => undefined)
      deps.logger?.warn(
        { archive: expect.archiveId, err: error instanceof Error ? error.message : String(error) },
        'backup archive did not unpack',
      )
      throw corrupt('decompression failed', error, kind)
    } finally {
      rmSync(plain, { force: true })
    }
    let manifest: Manifest
    try {
      manifest = JSON.parse(readFileSync(path.join(staging, 'manifest.json'), 'utf8')) as Manifest
    } catch (error) {
      throw corrupt('no readable manifest', error, kind)
    }
    const bad = checkManifest(manifest, expect.archiveId, expect.format)
    if (bad) throw corrupt(bad, undefined, kind)
    const present = regularFiles(staging).filter((f) => f !== 'manifest.json')
    if (present.length !== Object.keys(manifest.checksums).length)
      throw corrupt('files are missing or were added', undefined, kind)
    for (const f of present) {
      if ((await sha256File(path.join(staging, f))) !== manifest.checksums[f])
        throw corrupt(`checksum mismatch on ${f}`, undefined, kind)
    }
    return manifest
  }

  /** The key and associated data of a stored backup's archive: v1 from the row, v2 from its own header. */
  function keyForStored(
    r: BackupsTable,
    head: ArchiveHead,
  ): { key: Buffer; aad: Buffer; archiveId: string; format: string } {
    if (head.version === 1)
      return {
        key: Buffer.from(secrets.open(r.data_key, keyContext(r.id)), 'base64'),
        aad: Buffer.from(`${FORMAT_V1}:${r.id}`),
        archiveId: r.id,
        format: FORMAT_V1,
      }
    return {
      key: Buffer.from(secrets.open(head.sealedKey ?? '', archiveKeyContext(head.archiveId ?? '')), 'base64'),
      aad: head.prefix ?? Buffer.alloc(0),
      archiveId: head.archiveId ?? '',
      format: FORMAT_V2,
    }
  }

  /** Inserts the row of a new backup and its audit event in one transaction; the archive is built after. */
  async function start(
    principal: Principal,
    ctx: RequestContext,
    environmentId: string,
    input: BackupInput,
    origin: 'manual' | 'scheduled',
    step?: StepOfAction,
  ): Promise<Backup> {
    const env = await tenancy.environments.load(principal, environmentId, 'service.manage')
    const rows = await db
      .selectFrom('services')
      .selectAll()
      .where('environment_id', '=', env.id)
      .orderBy('name')
      .execute()
    const wanted = input.services ?? rows.filter((s) => s.status === 'running').map((s) => s.name)
    const chosen = wanted.map((name) => {
      const s = rows.find((x) => x.name === name)
      if (!s)
        throw new InvalidError(SERVICE_ERRORS.invalidField, `services: no service named ${name}`, {
          details: [{ field: 'services', message: `no service named ${name}` }],
        })
      if (s.status !== 'running')
        throw new ConflictError(SERVICE_ERRORS.notRunning, `service ${name} is ${s.status}`, {
          publicCode: 'service_not_running',
        })
      return {
        id: s.id,
        name: s.name,
        type: s.type as ServiceType,
        version: s.version,
        file: `services/${s.name}.${engines[s.type as ServiceType].dumpExtension}`,
      }
    })
    const files = input.files === false ? [] : (JSON.parse(env.persistent_dirs) as string[])
    const contents: BackupContents = { services: chosen, files }
    const id = newId('bkp')
    mkdirSync(dirOf(env.id), { recursive: true, mode: 0o700 })
    const row = await db.transaction().execute(async (trx) => {
      const r: BackupsTable = {
        id,
        environment_id: env.id,
        workspace_id: env.workspace_id,
        project_id: env.project_id,
        status: 'running',
        reason: null,
        contents: JSON.stringify(contents),
        size_bytes: null,
        sha256: null,
        data_key: secrets.seal(randomBytes(32).toString('base64'), keyContext(id)),
        created_at: clock.now().toISOString(),
        finished_at: null,
        origin,
        source_environment_id: null,
      }
      await trx.insertInto('backups').values(r).execute()
      if (step?.recordedByCaller) return r
      await audit.record(trx, {
        actor: actorOf(principal),
        action: 'environment.backup.create',
        target: { type: 'backup', id },
        workspaceId: env.workspace_id,
        projectId: env.project_id,
        environmentId: env.id,
        changes: diffChanges(null, {
          services: chosen.map((s) => s.name),
          files,
          ...(origin === 'scheduled' ? { origin } : {}),
        }),
        context: ctx,
      })
      return r
    })
    const job = build(row, contents).finally(() => work.delete(id))
    work.set(id, job)
    return toBackup(row)
  }

  async function removeRow(
    principal: Principal,
    ctx: RequestContext,
    r: BackupsTable,
    why?: string,
  ): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('backups').where('id', '=', r.id).execute()
      await audit.record(trx, {
        actor: actorOf(principal),
        action: 'environment.backup.delete',
        target: { type: 'backup', id: r.id },
        workspaceId: r.workspace_id,
        projectId: r.project_id,
        environmentId: r.environment_id,
        changes: diffChanges(
          { status: r.status, ...(why ? { origin: r.origin } : {}) },
          why ? { reason: why } : null,
        ),
        context: ctx,
      })
    })
    rmSync(archiveOf(r), { force: true })
  }

  /**
   * Retention (platform actor): keeps the newest `keep` succeeded scheduled backups of the environment
   * and deletes older ones, each with its audit event. Failed scheduled attempts beyond the newest `keep`
   * go too (they hold no archive, only a reason). Manual and imported backups are never touched.
   */
  async function prune(environmentId: string, keep: number): Promise<number> {
    let removed = 0
    for (const status of ['succeeded', 'failed'] as const) {
      const rows = await db
        .selectFrom('backups')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .where('origin', '=', 'scheduled')
        .where('status', '=', status)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute()
      for (const r of rows.slice(keep)) {
        await removeRow(PLATFORM, PLATFORM_CONTEXT, r, 'retention')
        removed++
      }
    }
    return removed
  }

  const importing = new Set<string>()
  const importLimit = deps.importLimitBytes ?? DEFAULT_IMPORT_LIMIT_BYTES
  const tooLarge = (): TooLargeError =>
    new TooLargeError(
      SERVICE_ERRORS.backupTooLarge,
      `the archive is larger than the import limit (${importLimit} bytes; PALISADE_BACKUP_IMPORT_LIMIT)`,
      { publicCode: 'body_too_large' },
    )

  return {
    copyPersistentOut,
    copyPersistentIn,

    /** Starts a backup; answers at once with status `running` (poll `get`). */
    async create(
      principal: Principal,
      ctx: RequestContext,
      environmentId: string,
      input: BackupInput,
      step?: StepOfAction,
    ): Promise<Backup> {
      return start(principal, ctx, environmentId, input, 'manual', step)
    },

    async list(principal: Principal, environmentId: string): Promise<{ items: Backup[]; nextCursor: null }> {
      await tenancy.environments.load(principal, environmentId, 'service.read')
      const rows = await db
        .selectFrom('backups')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute()
      return { items: rows.map(toBackup), nextCursor: null }
    },

    async get(principal: Principal, id: string): Promise<Backup> {
      return toBackup(await load(principal, id, 'service.read'))
    },

    /** The encrypted archive as stored (export). */
    async download(
      principal: Principal,
      id: string,
    ): Promise<{ stream: Readable; size: number; fileName: string }> {
      const r = await load(principal, id, 'service.manage')
      if (r.status !== 'succeeded')
        throw new ConflictError(SERVICE_ERRORS.backupNotReady, `backup is ${r.status}`, {
          publicCode: 'backup_not_ready',
        })
      const file = archiveOf(r)
      return { stream: createReadStream(file), size: statSync(file).size, fileName: `${r.id}.pbk` }
    },

    /**
     * What can be decided before an import's body is read: who may import here, and whether the declared
     * size fits the limit (nobody uploads gigabytes just to be told 403 or 413).
     */
    async checkImport(principal: Principal, environmentId: string, declaredBytes?: number): Promise<void> {
      await tenancy.environments.load(principal, environmentId, 'service.manage')
      if (declaredBytes !== undefined && declaredBytes > importLimit) throw tooLarge()
    },

    /**
     * Import (upload) of an archive as downloaded: streamed to disk (never buffered; cut off past the limit),
     * then decrypted and verified whole (GCM tag, manifest, every checksum) before a row exists. The data key
     * comes from the archive's v2 header, sealed with the master key: archives from any installation sharing
     * the master key import; others are refused. The new backup (origin `import`) can then be restored.
     */
    async importArchive(
      principal: Principal,
      ctx: RequestContext,
      environmentId: string,
      body: Readable,
      declaredBytes?: number,
    ): Promise<Backup> {
      const env = await tenancy.environments.load(principal, environmentId, 'service.manage')
      if (declaredBytes !== undefined && declaredBytes > importLimit) throw tooLarge()
      // One import at a time per environment: each may hold gigabytes of disk while it is checked.
      if (importing.has(env.id))
        throw new ConflictError(SERVICE_ERRORS.busy, 'another import into this environment is running', {
          publicCode: 'busy',
        })
      importing.add(env.id)
      const id = newId('bkp')
      mkdirSync(dirOf(env.id), { recursive: true, mode: 0o700 })
      const part = path.join(dirOf(env.id), `${id}.import`)
      const staging = path.join(dirOf(env.id), `${id}.verify`)
      const final = archiveOf({ environment_id: env.id, id })
      try {
        const hash = createHash('sha256')
        const counter = { bytes: 0 }
        const limiter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            counter.bytes += chunk.length
            if (counter.bytes > importLimit) return cb(tooLarge())
            hash.update(chunk)
            cb(null, chunk)
          },
        })
        // The request stream is never destroyed here: past the limit it is unhooked and drained, so that the
        // 413 answer reaches the client (a destroyed request resets the connection before it can be read).
        const pass = new PassThrough()
        body.on('error', (e) => pass.destroy(e))
        body.on('close', () => {
          if (!body.readableEnded) pass.destroy(new Error('the upload was cut off before its end'))
        })
        body.pipe(pass)
        const out = createWriteStream(part, { mode: 0o600 })
        try {
          await pipeline(pass, limiter, out)
        } catch (error) {
          body.unpipe(pass)
          body.resume()
          // The file is opened asynchronously: wait until the stream let go of it, or the clean-up below
          // could run before the file exists and leave the partial upload behind.
          if (!out.closed) await once(out, 'close')
          if (error instanceof TooLargeError) throw error
          throw new InvalidError(SERVICE_ERRORS.invalidField, 'the upload was cut off before its end', {
            publicCode: 'invalid_request',
            cause: error,
          })
        }
        if (counter.bytes === 0)
          throw new InvalidError(SERVICE_ERRORS.invalidField, 'the body is empty: send the archive', {
            details: [{ field: 'body', message: 'an archive is required' }],
          })
        let head: ArchiveHead
        try {
          head = readHead(part)
        } catch (error) {
          throw corrupt(error instanceof Error ? error.message : 'unreadable', error, 'unprocessable')
        }
        if (head.version === 1 || head.archiveId === null || head.sealedKey === null || head.prefix === null)
          throw new UnprocessableError(
            SERVICE_ERRORS.backupForeign,
            'this archive is in format 1, whose key stays with the installation that made it; make a new backup there and download that',
            { publicCode: 'backup_not_importable' },
          )
        let plainKey: string
        try {
          plainKey = secrets.open(head.sealedKey, archiveKeyContext(head.archiveId))
        } catch (error) {
          throw new UnprocessableError(
            SERVICE_ERRORS.backupForeign,
            'the archive’s key does not open with this installation’s master key: it was made by an installation with another master key (only installations sharing it can import each other’s backups), or its header is damaged',
            { publicCode: 'backup_not_importable', cause: error },
          )
        }
        const manifest = await unpackVerified(
          part,
          head,
          Buffer.from(plainKey, 'base64'),
          { archiveId: head.archiveId, aad: head.prefix, format: FORMAT_V2 },
          staging,
          'unprocessable',
        )
        // Verified, no row yet: a crash here leaves scratch files only, removed at the next start.
        crashPoint('import.verified')
        rmSync(staging, { recursive: true, force: true })
        const contents: BackupContents = { services: manifest.services, files: manifest.files }
        const now = clock.now().toISOString()
        const r: BackupsTable = {
          id,
          environment_id: env.id,
          workspace_id: env.workspace_id,
          project_id: env.project_id,
          status: 'succeeded',
          reason: null,
          contents: JSON.stringify(contents),
          size_bytes: counter.bytes,
          sha256: hash.digest('hex'),
          // The row keeps its own copy like every backup; restores of v2 archives read the header's.
          data_key: secrets.seal(plainKey, keyContext(id)),
          created_at: now,
          finished_at: now,
          origin: 'import',
          source_environment_id: manifest.environmentId,
        }
        renameSync(part, final)
        try {
          await db.transaction().execute(async (trx) => {
            await trx.insertInto('backups').values(r).execute()
            await audit.record(trx, {
              actor: actorOf(principal),
              action: 'environment.backup.import',
              target: { type: 'backup', id },
              workspaceId: env.workspace_id,
              projectId: env.project_id,
              environmentId: env.id,
              changes: diffChanges(null, {
                sourceEnvironmentId: manifest.environmentId,
                sourceBackupId: manifest.backupId,
                services: manifest.services.map((s) => s.name),
                files: manifest.files,
                sizeBytes: counter.bytes,
              }),
              context: ctx,
            })
          })
        } catch (error) {
          rmSync(final, { force: true })
          throw error
        }
        return toBackup(r)
      } finally {
        importing.delete(env.id)
        rmSync(part, { force: true })
        rmSync(staging, { recursive: true, force: true })
      }
    },

    /**
     * Verifies the whole archive first (authentication tag, manifest, every checksum), then, with the
     * environment in maintenance (the edge answers 503), replaces each service's data and each persistent
     * directory, and puts maintenance back as it was, also on failure. A damaged archive is refused before
     * anything changes and never takes the site down.
     */
    async restore(
      principal: Principal,
      ctx: RequestContext,
      id: string,
      step?: StepOfAction,
    ): Promise<Backup> {
      const r = await load(principal, id, 'service.manage')
      if (r.status !== 'succeeded')
        throw new ConflictError(SERVICE_ERRORS.backupNotReady, `backup is ${r.status}`, {
          publicCode: 'backup_not_ready',
        })
      if (recovering.has(r.environment_id))
        throw new ConflictError(
          SERVICE_ERRORS.busy,
          'a restore interrupted by a control-plane restart is being rolled back; try again in a moment',
          { publicCode: 'busy' },
        )
      const staging = path.join(dirOf(r.environment_id), `${r.id}.restore`)
      rmSync(staging, { recursive: true, force: true })
      try {
        const file = archiveOf(r)
        let head: ArchiveHead
        let k: ReturnType<typeof keyForStored>
        try {
          head = readHead(file)
          k = keyForStored(r, head)
        } catch (error) {
          throw corrupt(error instanceof Error ? error.message : 'unreadable', error)
        }
        const manifest = await unpackVerified(
          file,
          head,
          k.key,
          { archiveId: k.archiveId, aad: k.aad, format: k.format },
          staging,
          'invalid',
        )
        const current = await db
          .selectFrom('services')
          .selectAll()
          .where('environment_id', '=', r.environment_id)
          .execute()
        const targets = manifest.services.map((s) => {
          const t =
            current.find((c) => c.id === s.id) ?? current.find((c) => c.name === s.name && c.type === s.type)
          if (!t || t.status !== 'running') {
            throw new ConflictError(
              SERVICE_ERRORS.notRunning,
              `service ${s.name} (${s.type}) must exist and run to be restored`,
              { publicCode: 'service_not_running' },
            )
          }
          return { target: t.id, type: s.type, file: path.join(staging, s.file) }
        })
        // The data as it is now, kept until the restore is over: a crash (or a failure) half-way puts it back.
        const journal = await takeSafetyCopy(
          r.environment_id,
          r.id,
          targets.map((t) => ({ id: t.target, type: t.type })),
          manifest.files,
        )
        const release = deps.holdMaintenance ? await deps.holdMaintenance(r.environment_id) : undefined
        crashPoint('restore.held')
        try {
          try {
            for (const t of targets) {
              await services.exclusive(t.target, async ({ inst, creds, control }) =>
                engines[t.type].restore(inst, creds, t.file, control),
              )
              crashPoint('restore.service-replaced')
            }
            // Unpacked by the environment's user in its sandbox: no link the tenant planted is followed.
            for (const d of manifest.files)
              await copyPersistentIn(r.environment_id, d, path.join(staging, 'files', d))
            crashPoint('restore.files-replaced')
          } catch (error) {
            await rollBackRestore(journal).catch((err: unknown) =>
              deps.logger?.error({ err, backup: id }, 'putting the data from before the restore back failed'),
            )
            deps.logger?.error(
              {
                backup: id,
                environmentId: r.environment_id,
                err: error instanceof Error ? error.message : 'error',
              },
              `restoring backup ${id} into ${await hostOf(r.environment_id)} failed; its data from before was put back`,
            )
            throw error
          }
          removeJournal(journal, dirOf(r.environment_id))
        } finally {
          await release?.()
        }
        deps.logger?.info(
          { backup: id, environmentId: r.environment_id },
          `backup ${id} restored into ${await hostOf(r.environment_id)} (${[
            ...manifest.services.map((s) => s.name),
            ...manifest.files.map((f) => `${f}/`),
          ].join(', ')})`,
        )
        if (step?.recordedByCaller) return toBackup(r)
        await audit.recordAlone({
          actor: actorOf(principal),
          action: 'environment.backup.restore',
          target: { type: 'backup', id },
          workspaceId: r.workspace_id,
          projectId: r.project_id,
          environmentId: r.environment_id,
          changes: diffChanges(null, {
            services: manifest.services.map((s) => s.name),
            files: manifest.files,
          }),
          context: ctx,
        })
        return toBackup(r)
      } finally {
        rmSync(staging, { recursive: true, force: true })
      }
    },

    async remove(principal: Principal, ctx: RequestContext, id: string): Promise<void> {
      const r = await load(principal, id, 'service.manage')
      if (r.status === 'running')
        throw new ConflictError(SERVICE_ERRORS.busy, 'backup is still running', { publicCode: 'busy' })
      await removeRow(principal, ctx, r)
    },

    async getSchedule(principal: Principal, environmentId: string): Promise<BackupSchedule> {
      const env = await tenancy.environments.load(principal, environmentId, 'service.read')
      const r = await db
        .selectFrom('backup_schedules')
        .selectAll()
        .where('environment_id', '=', env.id)
        .executeTakeFirst()
      return toSchedule(env.id, r)
    },

    /**
     * Sets the environment's schedule. Enabling (or shortening the period) never pushes the next run later
     * than it already was, so saving the same schedule again cannot postpone backups forever.
     */
    async putSchedule(
      principal: Principal,
      ctx: RequestContext,
      environmentId: string,
      input: BackupScheduleInput,
    ): Promise<BackupSchedule> {
      const env = await tenancy.environments.load(principal, environmentId, 'service.manage')
      const range = (field: 'everyHours' | 'keep'): void => {
        const [min, max] = BACKUP_SCHEDULE_LIMITS[field]
        const v = input[field]
        if (!Number.isInteger(v) || v < min || v > max)
          throw new InvalidError(
            SERVICE_ERRORS.invalidField,
            `${field} must be an integer from ${min} to ${max}`,
            {
              details: [{ field, message: `must be an integer from ${min} to ${max}` }],
            },
          )
      }
      range('everyHours')
      range('keep')
      const now = clock.now()
      return db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('backup_schedules')
          .selectAll()
          .where('environment_id', '=', env.id)
          .executeTakeFirst()
        const period = input.everyHours * 3_600_000
        let next: string | null = null
        if (input.enabled) {
          const fresh = new Date(now.getTime() + period).toISOString()
          const base = before?.last_run_at
            ? new Date(new Date(before.last_run_at).getTime() + period).toISOString()
            : fresh
          const candidates = [
            fresh,
            base,
            ...(before?.enabled === 1 && before.next_run_at ? [before.next_run_at] : []),
          ]
          next = candidates.sort()[0] ?? fresh
        }
        const row: BackupSchedulesTable = {
          environment_id: env.id,
          workspace_id: env.workspace_id,
          project_id: env.project_id,
          enabled: input.enabled ? 1 : 0,
          every_hours: input.everyHours,
          keep: input.keep,
          files: input.files ? 1 : 0,
          next_run_at: next,
          last_run_at: before?.last_run_at ?? null,
          last_backup_id: before?.last_backup_id ?? null,
          last_error: before?.last_error ?? null,
          updated_at: now.toISOString(),
        }
        if (before)
          await trx.updateTable('backup_schedules').set(row).where('environment_id', '=', env.id).execute()
        else await trx.insertInto('backup_schedules').values(row).execute()
        const view = (s: BackupSchedule): Record<string, unknown> => ({
          enabled: s.enabled,
          everyHours: s.everyHours,
          keep: s.keep,
          files: s.files,
        })
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.backup-schedule.update',
          target: { type: 'environment', id: env.id },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: env.id,
          changes: diffChanges(
            before ? view(toSchedule(env.id, before)) : null,
            view(toSchedule(env.id, row)),
          ),
          context: ctx,
        })
        return toSchedule(env.id, row)
      })
    },

    /**
     * Scheduler entry (platform actor): claims every due schedule (its next run moves one period ahead
     * first, so a failing run is retried at the next period, never in a loop), makes the backup, waits
     * for it, then prunes succeeded scheduled backups beyond `keep`. Manual and imported backups are never
     * pruned. Answers how many schedules ran.
     */
    async runDueSchedules(shouldStop: () => boolean = () => false): Promise<number> {
      const now = clock.now()
      const due = await db
        .selectFrom('backup_schedules')
        .selectAll()
        .where('enabled', '=', 1)
        .where('next_run_at', '<=', now.toISOString())
        .orderBy('next_run_at')
        .limit(100)
        .execute()
      let ran = 0
      for (const s of due) {
        if (shouldStop()) break
        const claimed = await db
          .updateTable('backup_schedules')
          .set({
            next_run_at: new Date(now.getTime() + s.every_hours * 3_600_000).toISOString(),
            last_run_at: now.toISOString(),
          })
          .where('environment_id', '=', s.environment_id)
          .where('next_run_at', '=', s.next_run_at)
          .executeTakeFirst()
        if (Number(claimed.numUpdatedRows) !== 1) continue
        ran++
        let backupId: string | null = null
        let lastError: string | null = null
        try {
          const b = await start(
            PLATFORM,
            PLATFORM_CONTEXT,
            s.environment_id,
            { files: s.files === 1 },
            'scheduled',
          )
          backupId = b.id
          await work.get(b.id)
          const after = await db
            .selectFrom('backups')
            .select(['status', 'reason'])
            .where('id', '=', b.id)
            .executeTakeFirst()
          if (after?.status !== 'succeeded') lastError = after?.reason ?? 'the backup failed'
          await prune(s.environment_id, s.keep)
        } catch (error) {
          lastError = (error instanceof Error ? error.message : String(error)).slice(0, 1000)
          deps.logger?.error({ environmentId: s.environment_id, err: lastError }, 'scheduled backup failed')
        }
        await db
          .updateTable('backup_schedules')
          .set({ last_backup_id: backupId, last_error: lastError })
          .where('environment_id', '=', s.environment_id)
          .execute()
      }
      return ran
    },

    /** Resolves when the backup `id` is no longer being written. */
    prune,

    async settled(id: string): Promise<void> {
      await work.get(id)
    },

    /**
     * At start, once the services run and before the apps start (docs/crash-safety.md): a restore that a
     * stopped control plane left half-way gets the data from before it back (its safety copy) and the
     * maintenance flag it found; backups and imports it left running are failed, their scratch files removed.
     * Returns how many restores were rolled back.
     */
    async recover(): Promise<number> {
      let rolledBack = 0
      for (const { journal } of leftJournals) {
        try {
          await rollBackRestore(journal)
          if (deps.setMaintenance) await deps.setMaintenance(journal.environmentId, journal.maintenanceBefore)
          rolledBack++
          recovering.delete(journal.environmentId)
          deps.logger?.warn(
            { environment: journal.environmentId, backup: journal.backupId },
            'a restore interrupted by a control-plane restart was rolled back to the data from before it',
          )
        } catch (err) {
          // Left in maintenance on purpose: the data may be half-replaced, and the journal stays for the next try.
          deps.logger?.error(
            { err, environment: journal.environmentId, backup: journal.backupId },
            'rolling back an interrupted restore failed; the environment stays in maintenance',
          )
        }
      }
      await db
        .updateTable('backups')
        .set({
          status: 'failed',
          reason: 'interrupted by a control-plane restart',
          finished_at: clock.now().toISOString(),
        })
        .where('status', '=', 'running')
        .where('created_at', '<', bootedAt)
        .execute()
      for (const p of leftScratch) rmSync(p, { recursive: true, force: true })
      return rolledBack
    },

    /** Waits for backups in flight (shutdown). */
    async close(): Promise<void> {
      await Promise.all([...work.values()].map((p) => p.catch(() => undefined)))
    },

    /** Where the archive of a backup lives (benchmarks, tests). */
    archivePath: (r: { environmentId: string; id: string }): string =>
      archiveOf({ environment_id: r.environmentId, id: r.id }),
  }
}
export type Backups = ReturnType<typeof createBackups>

/** `12.3 kB`-style sizes for log lines. */
function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = n / 1000
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

import { spawn } from 'node:child_process'
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  cpSync,
  createReadStream,
  createWriteStream,
  existsSync,
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
import { Transform, type Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { diffChanges, type AuditLog } from '../audit/index.js'
import { actorOf, type Principal } from '../iam/index.js'
import type { Database, Kysely } from '../store/index.js'
import type { BackupsTable } from './tables.js'
import type { Tenancy } from '../tenancy/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, InvalidError, NotFoundError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import type { Logger } from '../shared/log.js'
import type { SecretBox } from '../shared/secret-box.js'
import type { Engine, ServiceType } from './engines/engine.js'
import { SERVICE_ERRORS } from './errors.js'
import { cleanEnv, mustExec } from './exec.js'
import type { ServiceOps } from './services.js'

/** `PALBK001` + 12-byte IV, then AES-256-GCM ciphertext of a gzipped tar, then the 16-byte tag. */
const MAGIC = Buffer.from('PALBK001', 'ascii')
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT = 'palisade-backup/1'

export const BACKUP_STATUSES = ['running', 'succeeded', 'failed'] as const
export type BackupStatus = (typeof BACKUP_STATUSES)[number]

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

export interface BackupsDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly clock: Clock
  readonly tenancy: Tenancy
  readonly secrets: SecretBox
  readonly dataDir: string
  readonly services: ServiceOps
  readonly engines: Readonly<Record<ServiceType, Engine>>
  readonly logger?: Logger
}

const keyContext = (id: string): string => `backup:${id}:key`

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
  }
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
  const envDirOf = (envId: string): string => path.join(deps.dataDir, 'envs', envId)
  const dirOf = (envId: string): string => path.join(deps.dataDir, 'backups', envId)
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
      const shared = path.join(envDirOf(r.environment_id), 'shared')
      for (const d of contents.files) {
        const src = path.join(shared, d)
        const dst = path.join(staging, 'files', d)
        mkdirSync(dst, { recursive: true, mode: 0o700 })
        // Symbolic links are left out: they could point anywhere on the host.
        if (existsSync(src))
          cpSync(src, dst, { recursive: true, filter: (p) => !lstatSync(p).isSymbolicLink() })
      }
      const checksums: Record<string, string> = {}
      for (const f of regularFiles(staging)) checksums[f] = await sha256File(path.join(staging, f))
      const manifest: Manifest = {
        format: FORMAT,
        backupId: r.id,
        environmentId: r.environment_id,
        createdAt: r.created_at,
        ...contents,
        checksums,
      }
      writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2), { mode: 0o600 })

      const key = Buffer.from(secrets.open(r.data_key, keyContext(r.id)), 'base64')
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(`${FORMAT}:${r.id}`))
      const part = archiveOf(r) + '.part'
      const out = createWriteStream(part, { mode: 0o600 })
      const hash = createHash('sha256')
      const counter = { bytes: 0 }
      out.write(MAGIC)
      out.write(iv)
      hash.update(MAGIC).update(iv)
      counter.bytes += MAGIC.length + IV_BYTES
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
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000)
      deps.logger?.error({ backup: r.id, err: reason }, 'backup failed')
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

  const corrupt = (why: string, cause?: unknown): InvalidError =>
    new InvalidError(
      SERVICE_ERRORS.backupCorrupt,
      `the archive is damaged or was tampered with (${why}); nothing was restored`,
      { publicCode: 'backup_corrupt', cause },
    )

  /** Decrypts, authenticates and unpacks the whole archive into `staging`, then checks every checksum. */
  async function unpackVerified(r: BackupsTable, staging: string): Promise<Manifest> {
    const file = archiveOf(r)
    const size = statSync(file).size
    if (size < MAGIC.length + IV_BYTES + TAG_BYTES) throw corrupt('too short')
    const head = Buffer.alloc(MAGIC.length + IV_BYTES)
    const tag = Buffer.alloc(TAG_BYTES)
    const fd = openSync(file, 'r')
    try {
      readSync(fd, head, 0, head.length, 0)
      readSync(fd, tag, 0, TAG_BYTES, size - TAG_BYTES)
    } finally {
      closeSync(fd)
    }
    if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt('not a Palisade backup')
    const key = Buffer.from(secrets.open(r.data_key, keyContext(r.id)), 'base64')
    const decipher = createDecipheriv('aes-256-gcm', key, head.subarray(MAGIC.length))
    decipher.setAAD(Buffer.from(`${FORMAT}:${r.id}`))
    decipher.setAuthTag(tag)
    mkdirSync(staging, { recursive: true, mode: 0o700 })
    const tar = tarProcess([
      '--extract',
      '--file=-',
      `--directory=${staging}`,
      '--no-same-owner',
      '--no-same-permissions',
      '--no-overwrite-dir',
    ])
    const tarDone = exitOf(tar, 'tar')
    try {
      // decipher.final() checks the tag: until it passes, nothing from the staging dir is used.
      await pipeline(
        createReadStream(file, { start: head.length, end: size - TAG_BYTES - 1 }),
        decipher,
        createGunzip(),
        tar.stdin as Writable,
      )
      await tarDone
    } catch (error) {
      tar.kill('SIGKILL')
      await tarDone.catch(() => undefined)
      deps.logger?.warn({ backup: r.id, err: error instanceof Error ? error.message : String(error) }, 'backup archive did not unpack')
      throw corrupt('authentication or decompression failed', error)
    }
    let manifest: Manifest
    try {
      manifest = JSON.parse(readFileSync(path.join(staging, 'manifest.json'), 'utf8')) as Manifest
    } catch (error) {
      throw corrupt('no readable manifest', error)
    }
    if (manifest.format !== FORMAT || manifest.backupId !== r.id)
      throw corrupt('the manifest belongs to another archive')
    const present = regularFiles(staging).filter((f) => f !== 'manifest.json')
    if (present.length !== Object.keys(manifest.checksums).length)
      throw corrupt('files are missing or were added')
    for (const f of present) {
      if ((await sha256File(path.join(staging, f))) !== manifest.checksums[f])
        throw corrupt(`checksum mismatch on ${f}`)
    }
    return manifest
  }

  return {
    /** Starts a backup; answers at once with status `running` (poll `get`). */
    async create(
      principal: Principal,
      ctx: RequestContext,
      environmentId: string,
      input: BackupInput,
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
        }
        await trx.insertInto('backups').values(r).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.backup.create',
          target: { type: 'backup', id },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: env.id,
          changes: diffChanges(null, { services: chosen.map((s) => s.name), files }),
          context: ctx,
        })
        return r
      })
      const job = build(row, contents).finally(() => work.delete(id))
      work.set(id, job)
      return toBackup(row)
    },

    async list(principal: Principal, environmentId: string): Promise<{ items: Backup[]; nextCursor: null }> {
      await tenancy.environments.load(principal, environmentId, 'service.read')
      const rows = await db
        .selectFrom('backups')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .orderBy('created_at', 'desc')
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
     * Verifies the whole archive first (authentication tag, manifest, every checksum), then replaces each
     * service's data and each persistent directory. A damaged archive is refused before anything changes.
     */
    async restore(principal: Principal, ctx: RequestContext, id: string): Promise<Backup> {
      const r = await load(principal, id, 'service.manage')
      if (r.status !== 'succeeded')
        throw new ConflictError(SERVICE_ERRORS.backupNotReady, `backup is ${r.status}`, {
          publicCode: 'backup_not_ready',
        })
      const staging = path.join(dirOf(r.environment_id), `${r.id}.restore`)
      rmSync(staging, { recursive: true, force: true })
      try {
        const manifest = await unpackVerified(r, staging)
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
        for (const t of targets) {
          await services.exclusive(t.target, async ({ inst, creds, control }) =>
            engines[t.type].restore(inst, creds, t.file, control),
          )
        }
        const envDir = envDirOf(r.environment_id)
        const owner = statSync(envDir)
        for (const d of manifest.files) {
          const live = path.join(envDir, 'shared', d)
          const old = `${live}.pre-restore`
          rmSync(old, { recursive: true, force: true })
          mkdirSync(path.dirname(live), { recursive: true })
          if (existsSync(live)) renameSync(live, old)
          renameSync(path.join(staging, 'files', d), live)
          await mustExec(['chown', '-R', '-h', `${owner.uid}:${owner.gid}`, '--', live])
          rmSync(old, { recursive: true, force: true })
        }
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
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('backups').where('id', '=', id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.backup.delete',
          target: { type: 'backup', id },
          workspaceId: r.workspace_id,
          projectId: r.project_id,
          environmentId: r.environment_id,
          changes: diffChanges({ status: r.status }, null),
          context: ctx,
        })
      })
      rmSync(archiveOf(r), { force: true })
    },

    /** Resolves when the backup `id` is no longer being written. */
    async settled(id: string): Promise<void> {
      await work.get(id)
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

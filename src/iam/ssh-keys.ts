import { createHash, createPublicKey } from 'node:crypto'
import { diffChanges, type AuditLog } from '../audit/index.js'
import { isUniqueViolation, type Database, type Kysely } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, InvalidError, NotFoundError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import { authorizeAccount } from './authorize.js'
import { IAM_ERRORS } from './errors.js'
import { actorOf, type Principal } from './principal.js'
import type { SshKeysTable } from './tables.js'

/** RSA below 3072 bits is refused (NIST SP 800-57: 112-bit security ends in 2030). */
export const MIN_RSA_BITS = 3072
/** An OpenSSH public key line is a few hundred bytes; 16 KiB bounds a 16384-bit RSA key with room. */
const MAX_KEY_LINE = 16 * 1024
export const MAX_SSH_KEYS_PER_USER = 50

const CURVES: Record<string, { crv: string; size: number }> = {
  'ecdsa-sha2-nistp256': { crv: 'P-256', size: 32 },
  'ecdsa-sha2-nistp384': { crv: 'P-384', size: 48 },
  'ecdsa-sha2-nistp521': { crv: 'P-521', size: 66 },
}

export interface ParsedSshKey {
  readonly type: string
  readonly bits: number
  /** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string
  /** `<type> <base64>` without the comment. */
  readonly publicKey: string
  readonly comment: string
}

const invalid = (message: string): never => {
  throw new InvalidError(IAM_ERRORS.sshKeyInvalid, `publicKey ${message}`, {
    details: [{ field: 'publicKey', message }],
  })
}

/** Reads the SSH wire format (RFC 4251 §5): uint32-length-prefixed strings. */
class Wire {
  private at = 0
  constructor(private readonly buf: Buffer) {}
  string(): Buffer {
    if (this.at + 4 > this.buf.length) return invalid('is truncated')
    const len = this.buf.readUInt32BE(this.at)
    this.at += 4
    if (len > this.buf.length - this.at) return invalid('is truncated')
    const out = this.buf.subarray(this.at, this.at + len)
    this.at += len
    return out
  }
  done(): boolean {
    return this.at === this.buf.length
  }
}

/** mpint → unsigned big-endian bytes (drops the sign-padding zero). */
function unsigned(mpint: Buffer): Buffer {
  if (mpint.length > 0 && (mpint[0] as number) & 0x80) return invalid('has a negative RSA parameter')
  let i = 0
  while (i < mpint.length - 1 && mpint[i] === 0) i++
  return mpint.subarray(i)
}

function bitLength(n: Buffer): number {
  if (n.length === 0) return 0
  return (n.length - 1) * 8 + (32 - Math.clz32(n[0] as number))
}

/**
 * Parses an OpenSSH public key line (`ssh-ed25519 AAAA… comment`), checks that the blob is well formed
 * and that the key itself is valid (Node builds a KeyObject from it, which checks the curve point),
 * and refuses DSA and short RSA keys.
 */
export function parseSshPublicKey(line: string): ParsedSshKey {
  const text = line.trim()
  if (text.length === 0 || text.length > MAX_KEY_LINE || /[\r\n]/.test(text))
    return invalid('must be one OpenSSH public key line')
  const [type = '', b64 = '', ...rest] = text.split(/\s+/)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return invalid('is not base64')
  const blob = Buffer.from(b64, 'base64')
  const wire = new Wire(blob)
  const inner = wire.string().toString('latin1')
  if (inner !== type) return invalid('type does not match its contents')
  let bits: number
  let jwk: Record<string, string>
  if (type === 'ssh-ed25519') {
    const pk = wire.string()
    if (pk.length !== 32) return invalid('has a wrong ed25519 key length')
    bits = 256
    jwk = { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') }
  } else if (type === 'ssh-rsa') {
    const e = unsigned(wire.string())
    const n = unsigned(wire.string())
    bits = bitLength(n)
    if (bits < MIN_RSA_BITS) {
      throw new InvalidError(
        IAM_ERRORS.sshKeyWeak,
        `RSA keys need at least ${MIN_RSA_BITS} bits (this one has ${bits}); use ed25519`,
        {
          details: [{ field: 'publicKey', message: `RSA key has ${bits} bits` }],
        },
      )
    }
    if (bits > 16384) return invalid('RSA key is too large')
    jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }
  } else if (CURVES[type]) {
    const { crv, size } = CURVES[type]
    const name = wire.string().toString('latin1')
    if (`ecdsa-sha2-${name}` !== type) return invalid('curve does not match its type')
    const q = wire.string()
    if (q.length !== 1 + 2 * size || q[0] !== 0x04) return invalid('must hold an uncompressed curve point')
    bits = crv === 'P-521' ? 521 : size * 8
    jwk = {
      kty: 'EC',
      crv,
      x: q.subarray(1, 1 + size).toString('base64url'),
      y: q.subarray(1 + size).toString('base64url'),
    }
  } else {
    return invalid(
      'type must be ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (DSA and others are refused)',
    )
  }
  if (!wire.done()) return invalid('has trailing data')
  try {
    createPublicKey({ key: jwk, format: 'jwk' })
  } catch {
    return invalid('is not a valid key')
  }
  const fingerprint = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
  return {
    type,
    bits,
    fingerprint,
    publicKey: `${type} ${blob.toString('base64')}`,
    comment: rest.join(' ').slice(0, 200),
  }
}

export interface SshKey {
  readonly id: string
  readonly name: string
  readonly type: string
  readonly bits: number
  readonly fingerprint: string
  readonly publicKey: string
  readonly createdAt: string
}

function toKey(r: SshKeysTable): SshKey {
  return {
    id: r.id,
    name: r.name,
    type: r.key_type,
    bits: r.bits,
    fingerprint: r.fingerprint,
    publicKey: r.public_key,
    createdAt: r.created_at,
  }
}

export function createSshKeys(deps: { db: Kysely<Database>; clock: Clock; audit: AuditLog }) {
  const { db, clock, audit } = deps
  const duplicate = (): ConflictError =>
    new ConflictError(IAM_ERRORS.sshKeyDuplicate, 'this key is already registered', {
      publicCode: 'conflict',
    })
  return {
    async list(principal: Principal): Promise<{ items: SshKey[]; nextCursor: null }> {
      const { userId } = authorizeAccount(principal, 'account.read')
      const rows = await db
        .selectFrom('ssh_keys')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .execute()
      return { items: rows.map(toKey), nextCursor: null }
    },

    async add(
      principal: Principal,
      ctx: RequestContext,
      input: { publicKey: string; name?: string | undefined },
    ): Promise<SshKey> {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const parsed = parseSshPublicKey(input.publicKey)
      const name = (input.name ?? parsed.comment).trim().slice(0, 100) || parsed.type
      const count = await db.selectFrom('ssh_keys').select('id').where('user_id', '=', userId).execute()
      if (count.length >= MAX_SSH_KEYS_PER_USER)
        throw new InvalidError(
          'PAL_IAM_SSH_KEY_LIMIT',
          `at most ${MAX_SSH_KEYS_PER_USER} SSH keys per user`,
          { publicCode: 'limit_reached' },
        )
      const exists = await db
        .selectFrom('ssh_keys')
        .select('id')
        .where('fingerprint', '=', parsed.fingerprint)
        .executeTakeFirst()
      if (exists) throw duplicate()
      const row: SshKeysTable = {
        id: newId('ssh'),
        user_id: userId,
        name,
        key_type: parsed.type,
        bits: parsed.bits,
        public_key: parsed.publicKey,
        fingerprint: parsed.fingerprint,
        created_at: clock.now().toISOString(),
      }
      return db.transaction().execute(async (trx) => {
        try {
          await trx.insertInto('ssh_keys').values(row).execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw duplicate()
          throw error
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'sshkey.create',
          target: { type: 'ssh_key', id: row.id },
          workspaceId: null,
          changes: diffChanges(null, { name, fingerprint: row.fingerprint }),
          context: ctx,
        })
        return toKey(row)
      })
    },

    async remove(principal: Principal, ctx: RequestContext, id: string): Promise<void> {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const row =
        id.length > 100
          ? undefined
          : await db
              .selectFrom('ssh_keys')
              .selectAll()
              .where('id', '=', id)
              .where('user_id', '=', userId)
              .executeTakeFirst()
      if (!row)
        throw new NotFoundError(IAM_ERRORS.sshKeyNotFound, 'SSH key not found', { publicCode: 'not_found' })
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('ssh_keys').where('id', '=', row.id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'sshkey.delete',
          target: { type: 'ssh_key', id: row.id },
          workspaceId: null,
          changes: diffChanges({ fingerprint: row.fingerprint }, null),
          context: ctx,
        })
      })
    },
  }
}

export type SshKeys = ReturnType<typeof createSshKeys>

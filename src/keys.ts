import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { InvalidError } from './shared/errors.js'

/** Reads a key file, or creates it (mode 0600, exclusive create so two starts cannot race). */
export function loadOrCreateKeyFile(file: string, create: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8')
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const value = create()
  try {
    writeFileSync(file, value, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8')
    throw error
  }
  chmodSync(file, 0o600)
  return value
}

/** The 32-byte master key: PALISADE_MASTER_KEY (hex or base64) or `<data>/master.key`. */
export function loadMasterKey(dataDir: string, configured: string | undefined): Buffer {
  if (configured !== undefined) {
    const key = /^[0-9a-fA-F]{64}$/.test(configured)
      ? Buffer.from(configured, 'hex')
      : Buffer.from(configured, 'base64')
    if (key.length !== 32)
      throw new InvalidError('PAL_CONFIG_MASTER_KEY', 'PALISADE_MASTER_KEY must be 32 bytes in hex or base64')
    return key
  }
  const text = loadOrCreateKeyFile(
    path.join(dataDir, 'master.key'),
    () => randomBytes(32).toString('base64') + '\n',
  )
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length !== 32)
    throw new InvalidError(
      'PAL_CONFIG_MASTER_KEY',
      `${path.join(dataDir, 'master.key')} does not hold a 32-byte key`,
    )
  return key
}

import { randomBytes } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** Random lowercase alphanumeric string; 20 chars carry ~103 bits. */
export function randomToken(length: number): string {
  const bytes = randomBytes(length * 2)
  let out = ''
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i] as number
    // Rejection sampling keeps the distribution uniform (252 = 7 * 36).
    if (b < 252) out += ALPHABET[b % 36]
  }
  return out.length === length ? out : out + randomToken(length - out.length)
}

/** Opaque object id with a type prefix, e.g. `env_3k9...`. Prefixes only help humans read logs. */
export function newId(prefix: string): string {
  return `${prefix}_${randomToken(20)}`
}

/** 256-bit secret rendered as base64url, for tokens that are shown once and stored hashed. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

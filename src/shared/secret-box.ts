import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

const VERSION = 'v1'

/**
 * AES-256-GCM sealing for secrets at rest (variables, TOTP secrets, service credentials).
 * Output: `v1.<iv>.<tag>.<ciphertext>` in base64url. `context` is bound as associated data so a
 * ciphertext copied to another row (another environment's variable) fails to open.
 */
export interface SecretBox {
  seal(plain: string, context: string): string
  open(sealed: string, context: string): string
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('master key must be 32 bytes')
  const k = Buffer.from(key)
  return {
    seal(plain, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', k, iv)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return [VERSION, iv.toString('base64url'), tag.toString('base64url'), body.toString('base64url')].join(
        '.',
      )
    },
    open(sealed, context) {
      const [version, iv, tag, body] = sealed.split('.')
      if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
        throw new Error('sealed value has an unknown format')
      }
      const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(context, 'utf8'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      )
    },
  }
}

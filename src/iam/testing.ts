import type { KeyObject } from 'node:crypto'

/** Test helpers for keys in OpenSSH format (used by unit and end-to-end tests). */

export function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.length)
  return Buffer.concat([len, body])
}
function mpint(b64url: string): Buffer {
  const raw = Buffer.from(b64url, 'base64url')
  return sshString((raw[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw)
}

/** OpenSSH line of a Node public key, built from its JWK (the inverse of the parser under test). */
export function opensshLine(key: KeyObject, comment = 'test@example'): string {
  const jwk = key.export({ format: 'jwk' })
  let blob: Buffer
  if (jwk.kty === 'OKP')
    blob = Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x as string, 'base64url'))])
  else if (jwk.kty === 'RSA')
    blob = Buffer.concat([sshString('ssh-rsa'), mpint(jwk.e as string), mpint(jwk.n as string)])
  else {
    const name = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' }[
      jwk.crv as string
    ] as string
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x as string, 'base64url'),
      Buffer.from(jwk.y as string, 'base64url'),
    ])
    blob = Buffer.concat([sshString(`ecdsa-sha2-${name}`), sshString(name), sshString(point)])
  }
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1')
  return `${type} ${blob.toString('base64')} ${comment}`
}

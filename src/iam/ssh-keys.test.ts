import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { MIN_RSA_BITS, parseSshPublicKey } from './ssh-keys.js'
import { opensshLine, sshString as str } from './testing.js'

function sshKeygenFingerprint(line: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-ssh-'))
  try {
    writeFileSync(path.join(dir, 'k.pub'), line + '\n')
    return (
      execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'k.pub')])
        .toString()
        .split(' ')[1] ?? ''
    ).trim()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('SSH public keys', () => {
  const cases: Array<[string, KeyObject, number]> = [
    ['ed25519', generateKeyPairSync('ed25519').publicKey, 256],
    ['ecdsa P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 256],
    ['ecdsa P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 384],
    ['ecdsa P-521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey, 521],
    ['rsa 3072', generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey, 3072],
  ]
  for (const [name, key, bits] of cases) {
    test(`a ${name} key is accepted with the fingerprint ssh-keygen prints`, () => {
      const line = opensshLine(key, 'alice@laptop')
      const parsed = parseSshPublicKey(line)
      assert.equal(parsed.bits, bits)
      assert.equal(parsed.comment, 'alice@laptop')
      assert.match(parsed.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/)
      assert.equal(parsed.fingerprint, sshKeygenFingerprint(line))
    })
  }

  test(`an RSA key under ${MIN_RSA_BITS} bits is refused as weak`, () => {
    const line = opensshLine(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)
    assert.throws(() => parseSshPublicKey(line), { code: 'PAL_IAM_SSH_KEY_WEAK' })
  })

  test('malformed, mislabelled, truncated and DSA keys are refused', () => {
    const good = opensshLine(generateKeyPairSync('ed25519').publicKey)
    const [, b64] = good.split(' ')
    const bad = [
      '',
      'ssh-ed25519',
      'ssh-ed25519 not*base64',
      `ssh-rsa ${b64}`,
      `ssh-ed25519 ${Buffer.from(b64 as string, 'base64')
        .subarray(0, 30)
        .toString('base64')}`,
      `ssh-ed25519 ${Buffer.concat([Buffer.from(b64 as string, 'base64'), Buffer.from([0])]).toString('base64')}`,
      `ssh-dss ${Buffer.concat([str('ssh-dss'), str('x')]).toString('base64')}`,
      `${good}\nssh-ed25519 ${b64}`,
    ]
    for (const line of bad)
      assert.throws(() => parseSshPublicKey(line), { code: 'PAL_IAM_SSH_KEY_INVALID' }, JSON.stringify(line))
  })

  test('an ECDSA point that is not on the curve is refused', () => {
    const line = opensshLine(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)
    const blob = Buffer.from(line.split(' ')[1] as string, 'base64')
    blob[blob.length - 1] = (blob[blob.length - 1] as number) ^ 1
    assert.throws(() => parseSshPublicKey(`ecdsa-sha2-nistp256 ${blob.toString('base64')}`), {
      code: 'PAL_IAM_SSH_KEY_INVALID',
    })
  })
})

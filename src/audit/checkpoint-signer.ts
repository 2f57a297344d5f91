import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { checkpointMessage, type Checkpoint } from './verify-chain.js'

/** Ed25519 key that signs checkpoints. The public half is published at GET /v1/audit/public-key. */
export interface CheckpointSigner {
  readonly publicKeyPem: string
  sign(c: Omit<Checkpoint, 'signature' | 'pruned'>): string
}

export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519')
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

export function createCheckpointSigner(privateKeyPem: string): CheckpointSigner {
  const key: KeyObject = createPrivateKey(privateKeyPem)
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString()
  return {
    publicKeyPem,
    sign: (c) => sign(null, Buffer.from(checkpointMessage(c)), key).toString('base64'),
  }
}

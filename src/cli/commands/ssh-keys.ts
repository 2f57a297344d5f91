import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { UsageError } from '../resolve.js'
import { createClient } from '../client.js'
import { done, print } from '../output.js'

interface SshKey {
  id: string
  name: string
  type: string
  bits: number
  fingerprint: string
  createdAt: string
}

const columns: ReadonlyArray<[string, (k: SshKey) => string | number]> = [
  ['id', (k) => k.id],
  ['name', (k) => k.name],
  ['type', (k) => k.type],
  ['bits', (k) => k.bits],
  ['fingerprint', (k) => k.fingerprint],
]

export function sshKeysCommand(): Command {
  const cmd = new Command('ssh-keys').description('your SSH public keys (ed25519, ecdsa, rsa ≥ 3072)')
  cmd
    .command('list')
    .description('list keys')
    .action(async (_o, c: Command) => {
      print(c, await createClient().request<{ items: SshKey[] }>('GET', '/v1/me/ssh-keys'), columns)
    })
  cmd
    .command('add <file>')
    .description('add a public key from a .pub file (never the private key)')
    .option('--name <name>', 'label (default: the key comment)')
    .action(async (file: string, o: { name?: string }, c: Command) => {
      const publicKey = readFileSync(file, 'utf8').trim()
      if (publicKey.includes('PRIVATE KEY'))
        throw new UsageError(`${file} is a private key; pass the .pub file`)
      print(
        c,
        await createClient().request<SshKey>('POST', '/v1/me/ssh-keys', {
          publicKey,
          ...(o.name ? { name: o.name } : {}),
        }),
        columns,
      )
    })
  cmd
    .command('remove <id>')
    .description('remove a key')
    .action(async (id: string, _o, c: Command) => {
      await createClient().request('DELETE', `/v1/me/ssh-keys/${encodeURIComponent(id)}`)
      done(c, `Removed SSH key ${id}.`)
    })
  return cmd
}

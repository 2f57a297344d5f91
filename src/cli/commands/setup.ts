import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { Command } from 'commander'
import { cliEnvironment } from '../../config/index.js'
import { createClient, writeCredentials } from '../client.js'
import { done } from '../output.js'
import { ask, askNewPassword } from '../prompt.js'

export function setupCommand(): Command {
  return new Command('setup')
    .description('create the first owner and workspace with the one-time setup token')
    .option('--token <token>', 'setup token (default: read from <data>/setup-token)')
    .option('--email <email>', 'owner e-mail')
    .option('--workspace <name>', 'first workspace name')
    .option(
      '--password-stdin',
      'read the password from standard input (a second line, when given, must repeat it)',
    )
    .action(
      async (
        opts: { token?: string; email?: string; workspace?: string; passwordStdin?: boolean },
        cmd: Command,
      ) => {
        const env = cliEnvironment()
        const tokenFile = path.join(env.dataDir ?? '.palisade', 'setup-token')
        const token =
          opts.token ??
          (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : await ask('Setup token: ', true))
        const email = opts.email ?? (await ask('Owner e-mail: '))
        const workspace = opts.workspace ?? (await ask('First workspace name: '))
        const password = await askNewPassword(opts.passwordStdin === true)
        const client = createClient(env, { anonymous: true })
        const result = await client.request<{ workspace: { name: string } }>('POST', '/v1/setup', {
          token,
          email,
          password,
          workspace,
        })
        const session = await client.request<{ token: string; expiresAt: string }>('POST', '/v1/sessions', {
          email,
          password,
        })
        const file = writeCredentials(env, {
          apiUrl: client.apiUrl,
          token: session.token,
          expiresAt: session.expiresAt,
          email,
        })
        done(
          cmd,
          `Set up: workspace ${result.workspace.name}, owner ${email}. Signed in (credentials in ${file}).`,
          result,
        )
      },
    )
}

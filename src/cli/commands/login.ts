import { Command } from 'commander'
import { cliEnvironment } from '../../config/index.js'
import { ApiError, createClient, readCredentials, removeCredentials, writeCredentials } from '../client.js'
import { done, print } from '../output.js'
import { ask, readStdinLine } from '../prompt.js'
import { UsageError } from '../resolve.js'

export function loginCommand(): Command {
  return new Command('login')
    .description('sign in and store the session in ~/.config/palisade/credentials.json (0600)')
    .option('--email <email>', 'e-mail')
    .option(
      '--password-stdin',
      'read the password from standard input (and, with 2FA on, the code from the next line)',
    )
    .option('--totp <code>', 'two-factor code or recovery code')
    .option('--api-url <url>', 'API URL (default PALISADE_API_URL or http://127.0.0.1:8080)')
    .action(
      async (
        opts: { email?: string; passwordStdin?: boolean; totp?: string; apiUrl?: string },
        cmd: Command,
      ) => {
        const base = cliEnvironment()
        const env = opts.apiUrl ? { ...base, apiUrl: opts.apiUrl } : base
        const email = opts.email ?? (await ask('E-mail: '))
        const password = opts.passwordStdin ? await readStdinLine() : await ask('Password: ', true)
        const client = createClient(env, { anonymous: true })
        const body: Record<string, string> = { email, password }
        if (opts.totp) body['totp'] = opts.totp
        const signIn = () =>
          client.request<{ token: string; expiresAt: string }>('POST', '/v1/sessions', body)
        let session: { token: string; expiresAt: string }
        try {
          session = await signIn()
        } catch (error) {
          // 2FA is on and no code was given: ask for it (or take stdin's next line) instead of failing.
          if (!(error instanceof ApiError) || error.code !== 'totp_required' || opts.totp) throw error
          const code = (
            opts.passwordStdin ? await readStdinLine() : await ask('Two-factor code (or a recovery code): ')
          ).trim()
          if (!code) throw new UsageError('this account has 2FA on: pass --totp <code> (or a recovery code)')
          body['totp'] = code
          session = await signIn()
        }
        const file = writeCredentials(env, {
          apiUrl: client.apiUrl,
          token: session.token,
          expiresAt: session.expiresAt,
          email,
        })
        done(cmd, `Signed in as ${email} until ${session.expiresAt} (${file}).`, {
          email,
          expiresAt: session.expiresAt,
        })
      },
    )
}

export function logoutCommand(): Command {
  return new Command('logout')
    .description('revoke the stored session and forget it')
    .action(async (_o, cmd: Command) => {
      const env = cliEnvironment()
      if (readCredentials(env)) {
        await createClient(env)
          .request('DELETE', '/v1/sessions/current')
          .catch(() => undefined)
        removeCredentials(env)
      }
      done(cmd, 'Signed out.')
    })
}

export function whoamiCommand(): Command {
  return new Command('whoami').description('show the signed-in user').action(async (_o, cmd: Command) => {
    const me = await createClient().request<{ id: string; email: string; totpEnabled: boolean }>(
      'GET',
      '/v1/me',
    )
    print(cmd, me, [
      ['id', (u: typeof me) => u.id],
      ['email', (u: typeof me) => u.email],
      ['2fa', (u: typeof me) => u.totpEnabled],
    ])
  })
}

import { Command } from 'commander'
import { createClient } from '../client.js'
import { done, stdio, wantsJson } from '../output.js'
import { ask, askNewPassword, readStdinLine } from '../prompt.js'
import { UsageError } from '../resolve.js'

/** `palisade 2fa enable|disable`: TOTP (RFC 6238) for your account, with single-use recovery codes. */
export function twoFactorCommand(): Command {
  const cmd = new Command('2fa').description('two-factor authentication (TOTP) for your account')
  cmd
    .command('enable')
    .description(
      'enrol an authenticator app: shows the secret, asks for a code, prints 10 recovery codes once',
    )
    .option('--code <code>', 'the current code (else asked after the secret is shown)')
    .action(async (o: { code?: string }, c: Command) => {
      const client = createClient()
      const enrol = await client.request<{ secret: string; uri: string }>('POST', '/v1/me/totp')
      if (!wantsJson(c)) {
        stdio.out(`Secret (base32): ${enrol.secret}`)
        stdio.out(`Or scan/open: ${enrol.uri}`)
      }
      const code = (o.code ?? (await ask('Code from the app: '))).trim()
      if (!/^\d{6,8}$/.test(code))
        throw new UsageError('the code is the 6 digits your authenticator app shows')
      const r = await client.request<{ recoveryCodes: string[] }>('POST', '/v1/me/totp/confirm', { code })
      if (wantsJson(c)) return done(c, '', { ...enrol, ...r })
      stdio.out(
        '2FA is on. Recovery codes (each works once instead of a code; shown only now, keep them safe):',
      )
      for (const rc of r.recoveryCodes) stdio.out(`  ${rc}`)
      stdio.out('To get new recovery codes, run `palisade 2fa disable` then `palisade 2fa enable`.')
    })
  cmd
    .command('disable')
    .description('turn 2FA off (needs a current code, a recovery code, or your password)')
    .option('--code <code>', 'a current code or a recovery code')
    .option('--password-stdin', 'prove it with your password, read from standard input')
    .action(async (o: { code?: string; passwordStdin?: boolean }, c: Command) => {
      const body = o.code
        ? { code: o.code }
        : o.passwordStdin
          ? { password: await readStdinLine() }
          : { code: (await ask('Current code or a recovery code: ')).trim() }
      await createClient().request('DELETE', '/v1/me/totp', body)
      done(c, '2FA is off. Sign-ins need only your password until you enable it again.')
    })
  return cmd
}

/** `palisade password change`: a new password (typed twice), proven with the current one. */
export function passwordCommand(): Command {
  const cmd = new Command('password').description('your password')
  cmd
    .command('change')
    .description('change your password (asks for the current one, then the new one twice)')
    .option(
      '--password-stdin',
      'read the current password, then the new one (and, optionally, again) from standard input',
    )
    .action(async (o: { passwordStdin?: boolean }, c: Command) => {
      const currentPassword = o.passwordStdin ? await readStdinLine() : await ask('Current password: ', true)
      const newPassword = await askNewPassword(
        o.passwordStdin === true,
        'New password (12+ characters, not guessable): ',
      )
      await createClient().request('POST', '/v1/me/password', { currentPassword, newPassword })
      done(c, 'Password changed; your other sessions were signed out.')
    })
  return cmd
}

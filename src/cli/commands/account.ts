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
      stdio.out('To get new recovery codes later (2FA staying on): `palisade 2fa recovery-codes`.')
    })
  cmd
    .command('recovery-codes')
    .description(
      'print 10 new recovery codes (2FA stays on; needs a current code from the app); the old ones stop working',
    )
    .option('--code <code>', 'the current code from the app (else asked)')
    .action(async (o: { code?: string }, c: Command) => {
      const code = (o.code ?? (await ask('Current code from the app: '))).trim()
      if (!/^\d{6}$/.test(code))
        throw new UsageError(
          'the code is the 6 digits your authenticator app shows (a recovery code cannot renew the codes)',
        )
      const r = await createClient().request<{ recoveryCodes: string[] }>(
        'POST',
        '/v1/me/totp/recovery-codes',
        { code },
      )
      if (wantsJson(c)) return done(c, '', r)
      stdio.out(
        'New recovery codes (each works once instead of a code; shown only now; the old ones no longer work):',
      )
      for (const rc of r.recoveryCodes) stdio.out(`  ${rc}`)
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

/** The token of a reset link (`…/password-reset/prt_….…`) or the bare token. */
export function parseResetToken(text: string): string {
  const trimmed = text.trim()
  const m = /\/password-reset\/([^/?#\s]+)\/?(?:[?#].*)?$/.exec(trimmed)
  const token = m?.[1] ? decodeURIComponent(m[1]) : trimmed
  if (!/^prt_[A-Za-z0-9]{1,40}\.[A-Za-z0-9_-]{20,100}$/.test(token))
    throw new UsageError('this is not a password reset token or link (it looks like …/password-reset/prt_…)')
  return token
}

/**
 * `palisade password change|reset`: change with the current password, or reset by a link mailed to the
 * account's address (for a forgotten password; no sign-in needed).
 */
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
  cmd
    .command('reset [email]')
    .description(
      'forgotten password: `reset <email>` mails a link (valid 30 minutes, once); `reset --token <token-or-link>` sets the new password',
    )
    .option('--token <token>', 'the token or the whole link from the e-mail: choose the new password now')
    .option(
      '--password-stdin',
      'with --token: read the new password (and, optionally, again) from standard input',
    )
    .action(async (email: string | undefined, o: { token?: string; passwordStdin?: boolean }, c: Command) => {
      const client = createClient(undefined, { anonymous: true })
      if (o.token === undefined) {
        if (!email) throw new UsageError('give the account e-mail address, or --token from the e-mail')
        const r = await client.request<{ status: string; message: string }>('POST', '/v1/password-reset', {
          email,
        })
        return done(
          c,
          `${r.message} Then run: palisade password reset --token <token> (or open the link). Without SMTP (PALISADE_SMTP_URL) the server writes the e-mail to <data>/outbox/.`,
          r,
        )
      }
      if (email) throw new UsageError('give either an e-mail address or --token, not both')
      const token = parseResetToken(o.token)
      const password = await askNewPassword(
        o.passwordStdin === true,
        'New password (12+ characters, not guessable): ',
      )
      const r = await client.request<{ email: string }>('POST', '/v1/password-reset/confirm', {
        token,
        password,
      })
      done(
        c,
        `Password changed; every session of ${r.email} was signed out. Sign in with: palisade login --email ${r.email}`,
        r,
      )
    })
  return cmd
}

import { useState } from 'preact/hooks'
import { api, ApiError, ok } from '../api/client'
import { rememberTimes } from '../session'
import { ErrorNote, Field, useAction } from '../ui'

/** Password, then (when the account has 2FA) a TOTP or recovery code. */
export function SignIn({ onSignedIn, expired }: { onSignedIn: () => void; expired: boolean }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [totp, setTotp] = useState('')
  const [needCode, setNeedCode] = useState(false)
  const action = useAction(async () => {
    try {
      const body = { email, password, cookie: true, ...(needCode && totp ? { totp: totp.trim() } : {}) }
      const s = await ok(api.POST('/v1/sessions', { body }))
      rememberTimes(s.expiresAt, s.idleTimeoutMinutes)
      onSignedIn()
    } catch (e) {
      if (e instanceof ApiError && e.code === 'totp_required') {
        setNeedCode(true)
        return
      }
      throw e
    }
  })
  return (
    <main class="narrow" id="main">
      <h1>Sign in to Palisade</h1>
      {expired ? (
        <p class="notice" role="status">
          Your session has ended (idle or absolute timeout, or signed out elsewhere). Sign in again.
        </p>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void action.run()
        }}
      >
        <Field
          label="E-mail"
          name="email"
          type="email"
          autocomplete="username"
          value={email}
          onInput={setEmail}
          required
          error={action.error}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={setPassword}
          required
          error={action.error}
        />
        {needCode ? (
          <Field
            label="Two-factor code (or a recovery code)"
            name="totp"
            autocomplete="one-time-code"
            inputMode="numeric"
            value={totp}
            onInput={setTotp}
            required
            error={action.error}
          />
        ) : null}
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>
          {needCode ? 'Verify and sign in' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}

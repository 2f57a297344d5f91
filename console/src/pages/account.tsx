import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { useSession } from '../session'
import { QrCode } from '../qr'
import { ErrorNote, Field, useAction, When } from '../ui'

/** Password change and two-factor enrolment (the secret shown as text: no third-party QR service). */
export function Account() {
  const session = useSession()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [changed, setChanged] = useState(false)
  const change = useAction(async () => {
    await ok(api.POST('/v1/me/password', { body: { currentPassword: current, newPassword: next } }))
    setChanged(true)
    setCurrent('')
    setNext('')
  })
  const [enrol, setEnrol] = useState<{ secret: string; uri: string } | null>(null)
  const [code, setCode] = useState('')
  const [recovery, setRecovery] = useState<string[] | null>(null)
  const start = useAction(async () => setEnrol(await ok(api.POST('/v1/me/totp'))))
  const confirm = useAction(async () => {
    const r = await ok(api.POST('/v1/me/totp/confirm', { body: { code } }))
    setRecovery(r.recoveryCodes)
    setEnrol(null)
  })
  return (
    <main id="main" class="narrow">
      <h1>Your account</h1>
      <p>
        Signed in as {session.user.email}.{' '}
        {session.expiresAt ? (
          <>
            The session ends at the latest at <When iso={session.expiresAt} />
            {session.idleTimeoutMinutes
              ? `, or after ${session.idleTimeoutMinutes} minutes without activity`
              : ''}
            .
          </>
        ) : null}
      </p>
      <section aria-labelledby="pw-h">
        <h2 id="pw-h">Change password</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault()
            void change.run()
          }}
        >
          <Field
            label="Current password"
            name="currentPassword"
            type="password"
            autocomplete="current-password"
            value={current}
            onInput={setCurrent}
            required
            error={change.error}
          />
          <Field
            label="New password"
            name="newPassword"
            type="password"
            autocomplete="new-password"
            value={next}
            onInput={setNext}
            required
            error={change.error}
          />
          <ErrorNote error={change.error} />
          {changed ? <p role="status">Password changed; your other sessions were signed out.</p> : null}
          <button type="submit" disabled={change.busy}>
            Change password
          </button>
        </form>
      </section>
      <section aria-labelledby="totp-h">
        <h2 id="totp-h">Two-factor authentication</h2>
        {recovery ? (
          <div class="notice" role="status">
            <p>
              Two-factor authentication is on. Your recovery codes, shown once — keep them somewhere safe:
            </p>
            <ul class="mono">
              {recovery.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
          </div>
        ) : session.user.totpEnabled ? (
          <p>Two-factor authentication is on.</p>
        ) : enrol ? (
          <form
            onSubmit={(e) => {
              e.preventDefault()
              void confirm.run()
            }}
          >
            <p>
              Scan this code with your authenticator app (or type the secret below), then enter the code it
              shows.
            </p>
            <QrCode text={enrol.uri} label="QR code of the two-factor secret for your authenticator app" />
            <p class="mono secret-once">{enrol.secret}</p>
            <p class="mono small">{enrol.uri}</p>
            <Field
              label="Code"
              name="code"
              inputMode="numeric"
              autocomplete="one-time-code"
              value={code}
              onInput={setCode}
              required
              error={confirm.error}
            />
            <ErrorNote error={confirm.error} />
            <button type="submit" disabled={confirm.busy}>
              Turn on
            </button>
          </form>
        ) : (
          <>
            <button type="button" onClick={() => void start.run()} disabled={start.busy}>
              Set up two-factor authentication
            </button>
            <ErrorNote error={start.error} />
          </>
        )}
      </section>
    </main>
  )
}

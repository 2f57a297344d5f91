import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { ErrorNote, Field, Link, Show, useAction, useLoad, When } from '../ui'

/** The link in an invitation e-mail: what it is for, and accepting it (creating the account when new). */
export function Invitation({ token }: { token: string }) {
  const inv = useLoad(() => ok(api.GET('/v1/invitations/{token}', { params: { path: { token } } })), [token])
  const [password, setPassword] = useState('')
  const [done, setDone] = useState<{ email: string } | null>(null)
  const accept = useAction(async (withPassword: boolean) => {
    const r = await ok(
      api.POST('/v1/invitations/{token}/accept', {
        params: { path: { token } },
        body: withPassword ? { password } : {},
      }),
    )
    setDone({ email: r.email })
  })
  return (
    <main class="narrow" id="main">
      <Show load={inv}>
        {(i) =>
          done ? (
            <>
              <h1>Welcome to {i.workspace}</h1>
              <p role="status">You are now a member of the workspace. Sign in as {done.email}.</p>
              <p>
                <Link href="/">Sign in</Link>
              </p>
            </>
          ) : (
            <>
              <h1>Join {i.workspace}</h1>
              <p>
                You are invited to the Palisade workspace <strong>{i.workspace}</strong> as{' '}
                <strong>{i.role}</strong>, with the address <strong>{i.email}</strong>. The invitation is
                valid until <When iso={i.expiresAt} /> and can be used once.
              </p>
              <form
                onSubmit={(e) => {
                  e.preventDefault()
                  void accept.run(!i.accountExists)
                }}
              >
                {i.accountExists ? (
                  <p>You already have an account: accepting adds the workspace to it.</p>
                ) : (
                  <Field
                    label="Choose a password (12 characters or more, not guessable)"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    value={password}
                    onInput={setPassword}
                    required
                    error={accept.error}
                  />
                )}
                <ErrorNote error={accept.error} />
                <button type="submit" disabled={accept.busy}>
                  Accept the invitation
                </button>
              </form>
            </>
          )
        }
      </Show>
    </main>
  )
}

import { render } from 'preact'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { api, setSessionEndedHandler } from './api/client'
import { Account } from './pages/account'
import { Audit, Incident, Members, Tokens } from './pages/admin'
import { Environment, isEnvTab, type EnvTab } from './pages/environment'
import { Invitation } from './pages/invitation'
import { IpGroups } from './pages/ip-groups'
import { SshKeys } from './pages/ssh-keys'
import { SignIn } from './pages/signin'
import { Project, Workspace, Workspaces } from './pages/workspaces'
import { match, navigate, usePath } from './router'
import { forgetTimes, recallTimes, SessionContext, type Session, type User } from './session'
import { ErrorNote, Link } from './ui'
import './style.css'

type Auth =
  | { state: 'loading' }
  | { state: 'out'; expired: boolean }
  | { state: 'in'; user: User }
  | { state: 'error'; error: unknown }

function App() {
  const path = usePath()
  const [auth, setAuth] = useState<Auth>({ state: 'loading' })
  const check = async () => {
    const r = await api
      .GET('/v1/me')
      .catch((error: unknown) => ({ error, data: undefined, response: undefined }))
    if (r.data) setAuth({ state: 'in', user: r.data })
    else if (r.response?.status === 401) setAuth({ state: 'out', expired: false })
    else setAuth({ state: 'error', error: r.error })
  }
  useEffect(() => {
    void check()
    setSessionEndedHandler(() => setAuth((a) => (a.state === 'in' ? { state: 'out', expired: true } : a)))
  }, [])
  const session = useMemo<Session | null>(() => {
    if (auth.state !== 'in') return null
    const times = recallTimes()
    return {
      user: auth.user,
      ...times,
      async signOut() {
        await api.DELETE('/v1/sessions/current').catch(() => undefined)
        forgetTimes()
        setAuth({ state: 'out', expired: false })
        navigate('/', true)
      },
    }
  }, [auth])

  // The invitation page works signed out (the mailed token is the credential).
  const invitation = match('/invitations/:token', path)
  if (invitation) return <Invitation token={invitation['token'] ?? ''} />
  if (auth.state === 'loading') return <p role="status">Loading…</p>
  if (auth.state === 'error')
    return (
      <main id="main" class="narrow">
        <h1>The console cannot reach the API</h1>
        <ErrorNote error={auth.error} />
      </main>
    )
  if (auth.state === 'out' || !session)
    return <SignIn expired={auth.state === 'out' && auth.expired} onSignedIn={() => void check()} />
  return (
    <SessionContext.Provider value={session}>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          Palisade
        </Link>
        <nav aria-label="Account">
          <Link href="/account">{session.user.email}</Link>
          <button type="button" class="link" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </nav>
      </header>
      <Page path={path} />
    </SessionContext.Provider>
  )
}

function Page({ path }: { path: string }) {
  let m: Record<string, string> | undefined
  if (path === '/' || path === '') return <Workspaces />
  if (path === '/account') return <Account />
  if ((m = match('/workspaces/:ws', path))) return <Workspace ws={m['ws'] ?? ''} />
  if ((m = match('/workspaces/:ws/members', path))) return <Members ws={m['ws'] ?? ''} />
  if ((m = match('/workspaces/:ws/tokens', path))) return <Tokens ws={m['ws'] ?? ''} />
  if ((m = match('/workspaces/:ws/audit', path))) return <Audit ws={m['ws'] ?? ''} />
  if ((m = match('/workspaces/:ws/ssh-keys', path))) return <SshKeys ws={m['ws'] ?? ''} />
  if ((m = match('/workspaces/:ws/ip-groups', path))) return <IpGroups ws={m['ws'] ?? ''} />
  if ((m = match('/workspaces/:ws/incident', path))) return <Incident ws={m['ws'] ?? ''} />
  if ((m = match('/projects/:id', path))) return <Project id={m['id'] ?? ''} />
  if ((m = match('/environments/:id', path))) return <Environment id={m['id'] ?? ''} />
  if ((m = match('/environments/:id/:tab', path)) && isEnvTab(m['tab'] ?? ''))
    return <Environment id={m['id'] ?? ''} tab={m['tab'] as EnvTab} />
  return (
    <main id="main" class="narrow">
      <h1>Page not found</h1>
      <p>
        There is no console page at <span class="mono">{path}</span>.{' '}
        <Link href="/">Back to your workspaces</Link>.
      </p>
    </main>
  )
}

const root = document.getElementById('app')
if (root) {
  root.textContent = ''
  render(<App />, root)
}

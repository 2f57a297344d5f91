import { createHash } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf } from '../context.js'
import { Strict } from '../schemas.js'

/** The answer to every reset request: the same whether or not the account exists. */
const REQUESTED = Object.freeze({
  status: 'requested',
  message:
    'If an account with this address exists, a link to choose a new password was e-mailed to it (valid 30 minutes, once).',
})

/** Password reset by e-mail: public routes (the mailed token is the credential), throttled. */
export function registerPasswordResetRoutes(app: FastifyInstance, deps: AppDeps): void {
  const resets = deps.identity.passwordResets
  app.post(
    '/v1/password-reset',
    {
      config: {
        meta: {
          auth: 'public',
          audit: 'user.password.reset.request',
          summary:
            'Ask for a password reset link by e-mail. Answers 202 the same whether or not the account exists',
        },
      },
      schema: {
        body: Strict({ email: Type.String({ minLength: 1, maxLength: 254 }) }),
        response: { 202: Type.Object({ status: Type.Literal('requested'), message: Type.String() }) },
      },
    },
    async (request, reply) => {
      await resets.request(contextOf(request), (request.body as { email: string }).email)
      return reply.code(202).send(REQUESTED)
    },
  )
  app.post(
    '/v1/password-reset/confirm',
    {
      config: {
        meta: {
          auth: 'public',
          audit: 'user.password.reset',
          summary:
            'Set a new password with the mailed token (once, within 30 minutes); every session of the account ends',
        },
      },
      schema: {
        body: Strict({
          token: Type.String({ minLength: 1, maxLength: 200 }),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        response: { 200: Type.Object({ email: Type.String() }) },
      },
    },
    async (request) => {
      const body = request.body as { token: string; password: string }
      return resets.confirm(contextOf(request), body.token, body.password)
    },
  )

  // The link in the reset e-mail: a form that posts to the route above. The token is checked on submit only,
  // so the page says nothing about whether it is valid (and costs no lookup).
  app.get(
    '/password-reset/:token',
    {
      config: { meta: { auth: 'public', summary: 'The page a password reset e-mail links to' } },
      schema: { params: Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) }) },
    },
    async (_request, reply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .header(
          'content-security-policy',
          `default-src 'none'; script-src '${RESET_SCRIPT_HASH}'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'`,
        )
        .send(PAGE),
  )
}

const RESET_SCRIPT = `document.getElementById('reset').addEventListener('submit', async (e) => {
  e.preventDefault()
  const f = e.target.elements
  const out = document.getElementById('result')
  if (f.password.value !== f.again.value) { out.textContent = 'The two passwords differ.'; return }
  const token = decodeURIComponent(location.pathname.replace(/^\\/password-reset\\//, ''))
  const res = await fetch('/v1/password-reset/confirm', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: f.password.value }),
  })
  const body = await res.json().catch(() => ({}))
  out.textContent = res.ok
    ? 'Done: your password is changed and every session was signed out. Sign in with palisade login --email ' + body.email + '.'
    : (body.error && body.error.message) || 'The password could not be changed (HTTP ' + res.status + ').'
})`
const RESET_SCRIPT_HASH = `sha256-${createHash('sha256').update(RESET_SCRIPT).digest('base64')}`

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Choose a new password · Palisade</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em}</style>
</head><body><h1>Choose a new password</h1>
<form id="reset">
<p><label>New password (12 characters or more, not guessable): <input type="password" name="password" autocomplete="new-password" minlength="12" required></label></p>
<p><label>Again: <input type="password" name="again" autocomplete="new-password" minlength="12" required></label></p>
<p><button type="submit">Change the password</button></p></form>
<p id="result" role="status"></p>
<p>The link works once, within 30 minutes of the request. Every session of the account ends; two-factor authentication stays on.
From a terminal instead: <code>palisade password reset --token &lt;the token at the end of this link&gt;</code>.</p>
<script>${RESET_SCRIPT}</script>
</body></html>
`

import { createHash } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf } from '../context.js'
import { NotFoundError } from '../../shared/errors.js'
import { Strict } from '../schemas.js'
import { sendConsolePage } from '../console.js'

/** Accepting an invitation needs no account yet: the mailed token is the credential. */
export function registerInvitationRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/invitations/:token/accept',
    {
      config: {
        meta: {
          auth: 'public',
          audit: 'member.create',
          summary: 'Accept an invitation (creates the account when new), once',
        },
      },
      // No body at all means no options: validated as {}.
      preValidation: async (request) => {
        request.body ??= {}
      },
      schema: {
        params: Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        body: Strict({ password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) }),
        response: {
          201: Type.Object({
            workspaceId: Type.String(),
            userId: Type.String(),
            email: Type.String(),
            role: Type.String(),
          }),
        },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { password?: string }
      return reply
        .code(201)
        .send(
          await deps.identity.members.accept(
            contextOf(request),
            (request.params as { token: string }).token,
            body.password,
          ),
        )
    },
  )

  app.get(
    '/v1/invitations/:token',
    {
      config: {
        meta: { auth: 'public', summary: 'What an invitation is for (the token is the credential)' },
      },
      schema: {
        params: Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: {
          200: Type.Object({
            workspace: Type.String(),
            email: Type.String(),
            role: Type.String(),
            expiresAt: Type.String(),
            accountExists: Type.Boolean(),
          }),
        },
      },
    },
    async (request) => {
      const inv = await deps.identity.members.describe((request.params as { token: string }).token)
      if (!inv)
        throw new NotFoundError(
          'PAL_API_INVITATION_UNKNOWN',
          'this invitation is unknown, expired or already used',
        )
      return inv
    },
  )

  // The link in the invitation e-mail (DESIGN.md §2): for a browser (Accept: text/html), the console's accept page when
  // the console is built; for any other HTTP client, or without the console, a page that says what the invitation is
  // for and accepts it (a browser posts to the route above; the page also names the CLI command). Public: the token
  // is the credential.
  app.get(
    '/invitations/:token',
    {
      config: { meta: { auth: 'public', summary: 'The page an invitation e-mail links to' } },
      schema: { params: Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) }) },
    },
    async (request, reply) => {
      if (deps.console && /\btext\/html\b/i.test(request.headers.accept ?? ''))
        return sendConsolePage(request, reply, deps.console)
      const token = (request.params as { token: string }).token
      const inv = await deps.identity.members.describe(token)
      void reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('referrer-policy', 'no-referrer')
        .header(
          'content-security-policy',
          `default-src 'none'; script-src '${ACCEPT_SCRIPT_HASH}'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'`,
        )
      if (!inv) {
        return reply
          .code(404)
          .send(
            page(
              'Invitation not valid',
              '<p>This invitation is unknown, expired or already used. Ask an admin of the workspace to invite you again (<code>palisade members invite</code>).</p>',
            ),
          )
      }
      const link = `${deps.publicUrl ?? `${request.protocol}://${request.host}`}/invitations/${token}`
      return reply.send(
        page(
          `Join ${inv.workspace}`,
          `<p>You are invited to the Palisade workspace <b>${esc(inv.workspace)}</b> as <b>${esc(inv.role)}</b>, with the address <b>${esc(inv.email)}</b>. The invitation is valid until ${esc(inv.expiresAt)} and can be used once.</p>
<form id="accept">${
            inv.accountExists
              ? '<p>You already have an account: accepting adds the workspace to it.</p>'
              : '<p><label>Choose a password (12 characters or more, not guessable): <input type="password" name="password" autocomplete="new-password" minlength="12" required></label></p>'
          }<p><button type="submit">Accept the invitation</button></p></form>
<p id="result" role="status"></p>
<p>From a terminal instead: <code>palisade invitations accept '${esc(link)}'</code> (it asks for a password when you have no account yet), then <code>palisade login --email ${esc(inv.email)}</code>.</p>
<script>${ACCEPT_SCRIPT}</script>`,
        ),
      )
    },
  )
}

const ACCEPT_SCRIPT = `document.getElementById('accept').addEventListener('submit', async (e) => {
  e.preventDefault()
  const pw = e.target.elements.password
  const res = await fetch(location.pathname.replace(/^\\/invitations\\//, '/v1/invitations/') + '/accept', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(pw ? { password: pw.value } : {}),
  })
  const body = await res.json().catch(() => ({}))
  document.getElementById('result').textContent = res.ok
    ? 'Done: you are a member of the workspace. Sign in with palisade login --email ' + body.email + '.'
    : (body.error && body.error.message) || 'The invitation could not be accepted (HTTP ' + res.status + ').'
})`
const ACCEPT_SCRIPT_HASH = `sha256-${createHash('sha256').update(ACCEPT_SCRIPT).digest('base64')}`

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Palisade</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em}</style>
</head><body><h1>${esc(title)}</h1>
${body}
</body></html>
`
}

/**
 * The invitation and password reset tokens travel in the path (DESIGN.md §3), so request logs would record a
 * live credential: the URL that reaches a log line has them masked.
 */
export function maskSecretsInUrl(url: string): string {
  return url
    .replace(/\/invitations\/[^/?#]+/g, '/invitations/[masked]')
    .replace(/\/password-reset\/(?!confirm(?:[/?#]|$))[^/?#]+/g, '/password-reset/[masked]')
}

/** Fastify's request log view, with secrets in the URL masked. */
export function requestLogView(req: {
  method: string
  url: string
  host?: string
  ip?: string
}): Record<string, unknown> {
  return { method: req.method, url: maskSecretsInUrl(req.url), host: req.host, remoteAddress: req.ip }
}

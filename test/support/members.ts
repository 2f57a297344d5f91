import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { signIn, type TestPlatform } from './platform.js'

/** The password every invited test member chooses. */
export const MEMBER_PASSWORD = 'a sturdy passphrase for a new member 9'
const PASSWORD = MEMBER_PASSWORD

/** The invitation link from the newest .eml in the outbox (quoted-printable soft breaks undone). */
export function invitationToken(tp: TestPlatform, email: string, workspace = 'acme'): string {
  const dir = path.join(tp.store.dataDir, 'outbox')
  const mails = readdirSync(dir).map((f) =>
    readFileSync(path.join(dir, f), 'utf8')
      .replace(/=\r?\n/g, '')
      .replace(/=3D/g, '='),
  )
  const mail = mails.find((m) => m.includes(`To: ${email}`) && m.includes(`the ${workspace} workspace`))
  assert.ok(mail, `a mail to ${email} is in the outbox`)
  const m = /http:\/\/127\.0\.0\.1:8080\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail)
  assert.ok(m, 'the mail holds the invitation link')
  return m[1] as string
}

/** Invites, accepts (creating the user) and signs in; returns the member's session and id. */
export async function addMember(
  tp: TestPlatform,
  ownerToken: string,
  ws: string,
  email: string,
  role: string,
): Promise<{ token: string; userId: string }> {
  const inv = await tp.call('POST', `/v1/workspaces/${ws}/members`, {
    token: ownerToken,
    body: { email, role },
  })
  assert.equal(inv.statusCode, 201, inv.body)
  const accept = await tp.call('POST', `/v1/invitations/${invitationToken(tp, email)}/accept`, {
    body: { password: PASSWORD },
  })
  assert.equal(accept.statusCode, 201, accept.body)
  return { token: await signIn(tp, email, PASSWORD), userId: (accept.json() as { userId: string }).userId }
}

import { X509Certificate } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

const DAY_MS = 86_400_000
/**
 * A certificate is renewed when it has less than this left (the local CA's leaves live 90 days). The edge
 * re-reads a cached TLS context, and its renewal round re-issues, inside the same window, so that a renewal
 * happens long before a client could see an expired certificate.
 */
export const RENEW_BEFORE_MS = 14 * DAY_MS
/** Leaves looked at per renewal round (one per routed host; a cap bounds a round's work). */
const MAX_LEAVES = 10_000

/** The hosts of the local CA's leaves under `certsDir` that are due for renewal at `now` (unreadable ones too). */
export async function leavesDue(certsDir: string, now: number): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(certsDir)
  } catch {
    return [] // no certificate issued yet
  }
  const due: string[] = []
  for (const name of names.filter((n) => n.endsWith('.crt')).slice(0, MAX_LEAVES)) {
    const host = name.slice(0, -4)
    try {
      const notAfter = Date.parse(new X509Certificate(await readFile(join(certsDir, name))).validTo)
      if (notAfter - now <= RENEW_BEFORE_MS) due.push(host)
    } catch {
      due.push(host) // a damaged file is replaced by a new leaf
    }
  }
  return due
}

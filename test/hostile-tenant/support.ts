/** What the hostile-tenant tests share: a job run as the tenant, its output, and the sandbox name. */
import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import type { DeployFixture } from '../deploy-helpers.js'
import { eventually } from '../../src/deploy/testing.js'

export const isRoot = process.getuid?.() === 0
export const ROOT_ONLY = isRoot ? false : 'needs root (sandboxes)'

/** Runs `command` as a job of the environment (the tenant's own code) and returns its status and output. */
export async function tenantJob(
  f: DeployFixture,
  command: string,
): Promise<{ status: string; output: string }> {
  const res = await f.call('POST', `/v1/environments/${f.envId}/jobs`, { type: 'command', command })
  if (res.statusCode !== 201 && res.statusCode !== 202) throw new Error(`job refused: ${res.body}`)
  const { id } = res.json() as { id: string }
  const done = await eventually(
    async () => {
      const j = (await f.call('GET', `/v1/jobs/${id}`)).json() as { status: string }
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined
    },
    60_000,
    `job ${id}`,
  )
  const output = (await f.call('GET', `/v1/jobs/${id}/logs`)).body
  return { status: done.status, output }
}

/** The lines a job printed (its log without the platform's own `[palisade] …` notes). */
export function printed(output: string): string[] {
  return output.split('\n').filter((l) => l !== '' && !l.startsWith('[palisade] '))
}

/** Every entry under `root` with its type, mode, owner and content: a change anywhere changes this. */
export function snapshotTree(root: string): string {
  const h = createHash('sha256')
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name)
      const st = lstatSync(p)
      h.update(`${p} ${st.mode} ${st.uid} ${st.gid} ${st.size} ${st.mtimeMs}\n`)
      if (st.isSymbolicLink()) h.update(readlinkSync(p))
      else if (st.isDirectory()) walk(p)
      else h.update(readFileSync(p))
    }
  }
  walk(root)
  return h.digest('hex')
}

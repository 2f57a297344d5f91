import { cliEnvironment } from '../config/index.js'
import { ApiError, type ApiClient } from './client.js'

/** Usage problems found by the CLI itself (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

interface Named {
  id: string
  name: string
}
interface Page<T> {
  items: T[]
  nextCursor: string | null
}

const ID = /^[a-z]{3}_[a-z0-9]{20}$/

async function all<T>(client: ApiClient, path: string): Promise<T[]> {
  const out: T[] = []
  let cursor: string | null = null
  do {
    const sep = path.includes('?') ? '&' : '?'
    const page: Page<T> = await client.request<Page<T>>(
      'GET',
      `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return out
}

/** --workspace, else PALISADE_WORKSPACE, else the caller's only workspace. Names and ids both work. */
export async function resolveWorkspace(client: ApiClient, ref: string | undefined): Promise<string> {
  const chosen = ref ?? cliEnvironment().workspace
  if (chosen) return encodeURIComponent(chosen)
  const list = await all<Named>(client, '/v1/workspaces')
  if (list.length === 1 && list[0]) return list[0].id
  throw new UsageError(
    list.length === 0
      ? 'you belong to no workspace; create one with `palisade workspaces create <name>`'
      : `you belong to ${list.length} workspaces (${list.map((w) => w.name).join(', ')}): pass --workspace <name>, or set PALISADE_WORKSPACE=<name> once for every command`,
  )
}

export async function resolveProject(
  client: ApiClient,
  ref: string | undefined,
  workspace: string | undefined,
): Promise<string> {
  if (!ref) throw new UsageError('pass --project <name or id>')
  if (ID.test(ref) && ref.startsWith('prj_')) return ref
  const ws = await resolveWorkspace(client, workspace)
  const match = (await all<Named>(client, `/v1/workspaces/${ws}/projects`)).find((p) => p.name === ref)
  if (!match) throw new ApiError(404, 'not_found', `project ${ref} not found`, undefined)
  return match.id
}

/** `--env` takes an id, or a name with --project (and --workspace), or `project/env`. */
export async function resolveEnvironment(
  client: ApiClient,
  ref: string | undefined,
  opts: { project?: string; workspace?: string },
): Promise<string> {
  if (!ref) throw new UsageError('pass an environment (--env <name or id>)')
  if (ID.test(ref) && ref.startsWith('env_')) return ref
  let project = opts.project
  let name = ref
  if (ref.includes('/')) {
    const [p, e] = ref.split('/', 2)
    project = p
    name = e ?? ''
  }
  const projectId = await resolveProject(client, project, opts.workspace)
  const match = (await all<Named>(client, `/v1/projects/${projectId}/environments`)).find(
    (e) => e.name === name,
  )
  if (!match) throw new ApiError(404, 'not_found', `environment ${name} not found`, undefined)
  return match.id
}

export { all as listAll }

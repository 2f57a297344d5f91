import { lstat, mkdir, readdir, rename, rmdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Where the edge keeps its files under Palisade's data dir: the local CA (`ca/ca.crt` for users to trust,
 * `ca/ca.key` private), the leaves it signed (`certs/`) and ACME certificates (`acme/`).
 */
export interface EdgePaths {
  readonly dir: string
  readonly caDir: string
  readonly caCert: string
  readonly caKey: string
  readonly certsDir: string
  readonly acmeDir: string
}

/** The edge's paths for a data dir (`<data>/edge/…`); the one place that spells them. */
export function edgePaths(dataDir: string): EdgePaths {
  const dir = join(dataDir, 'edge')
  const caDir = join(dir, 'ca')
  return Object.freeze({
    dir,
    caDir,
    caCert: join(caDir, 'ca.crt'),
    caKey: join(caDir, 'ca.key'),
    certsDir: join(dir, 'certs'),
    acmeDir: join(dir, 'acme'),
  })
}

/** What moveLegacyEdgeFiles did, for the start-up log. */
export interface LegacyEdgeMove {
  /** Directory names moved from `<data>/edge/edge/` to `<data>/edge/` (`ca`, `certs`, `acme`). */
  readonly moved: readonly string[]
  /** Names left in place because the new location already exists (the new one wins). */
  readonly kept: readonly string[]
}

const LEGACY_NAMES = ['ca', 'certs', 'acme'] as const

/**
 * Earlier versions kept the edge's files one level too deep (`<data>/edge/edge/ca/ca.crt`). Moves each of
 * `ca`, `certs` and `acme` up when the old directory exists and the new does not (a rename on the same file
 * system: the CA key never exists twice), then removes `<data>/edge/edge` if it is left empty.
 * Only real directories are moved (lstat): the data dir is the control plane's, but a symbolic link there is
 * never followed.
 */
export async function moveLegacyEdgeFiles(dataDir: string): Promise<LegacyEdgeMove> {
  const paths = edgePaths(dataDir)
  const legacy = join(paths.dir, 'edge')
  if (!(await isRealDirectory(legacy))) return { moved: [], kept: [] }
  const moved: string[] = []
  const kept: string[] = []
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  for (const name of LEGACY_NAMES) {
    const from = join(legacy, name)
    if (!(await isRealDirectory(from))) continue
    const to = join(paths.dir, name)
    if (await exists(to)) {
      kept.push(name)
      continue
    }
    await rename(from, to)
    moved.push(name)
  }
  if ((await readdir(legacy)).length === 0) await rmdir(legacy)
  return { moved, kept }
}

async function isRealDirectory(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

import path from 'node:path'
import { NotFoundError } from '../../shared/errors.js'
import type { Clock } from '../../shared/clock.js'
import { findRuntime, releasedBy } from '../catalog/catalog.js'
import type { RuntimeCatalog } from '../catalog/types.js'
import { RUNTIME_ERRORS } from '../errors.js'
import { formatVersion } from '../semver.js'
import { parseRuntimeSetting, settingAllows } from '../setting.js'
import { installNodeVersion } from './node-installer.js'

export interface RuntimePinsOptions {
  readonly dataDir: string
  /** The catalog in force (the refreshed one when newer than the shipped snapshot). */
  readonly catalog: () => RuntimeCatalog
  readonly clock: Clock
  /** Default https://registry.npmjs.org. */
  readonly registry?: string
  /** The Node.js running Palisade (default: this process): a pin to exactly its version uses it as is. */
  readonly hostNode?: { readonly version: string; readonly binDir: string }
}

/**
 * Exact Node.js versions for deployments (deploy's `RuntimePins`): `node@20` and `node@20.11` resolve to
 * the newest release the setting allows in the catalog now, `node@20.11.1` to itself; `static`, `custom:`
 * and runtimes Palisade cannot install are not pinned. Versions are installed once, checksum-verified,
 * under `<data>/runtimes/node/<version>/` and shared read-only (see installNodeVersion).
 * @example const pins = createRuntimePins({ dataDir, catalog: runtimes.catalog, clock }); pins.resolve('node@20') // '20.20.2'
 */
export function createRuntimePins(options: RuntimePinsOptions) {
  const opts = Object.freeze({ ...options })
  return {
    resolve(runtime: string): string | null {
      const setting = parseRuntimeSetting(runtime)
      if (setting.kind === 'custom' || setting.kind === 'static' || setting.runtime !== 'node') return null
      if (setting.kind === 'exact') return formatVersion(setting.version)
      const entry = findRuntime(opts.catalog(), 'node')
      const latest = entry
        ? releasedBy(entry, opts.clock.now())
            .filter((r) => settingAllows(setting, r.v))
            .at(-1)
        : undefined
      if (!latest)
        throw new NotFoundError(
          RUNTIME_ERRORS.noMatchingVersion,
          `the runtime catalog has no released node version matching ${runtime}`,
        )
      return latest.version
    },

    async prepare(version: string): Promise<{ binDir: string; cached: boolean }> {
      // The control plane's own node is that exact version: nothing to download (and nothing to trust anew).
      const host = opts.hostNode ?? { version: process.versions.node, binDir: path.dirname(process.execPath) }
      if (version === host.version) return { binDir: host.binDir, cached: true }
      const result = await installNodeVersion({
        dataDir: opts.dataDir,
        version,
        catalog: opts.catalog(),
        ...(opts.registry === undefined ? {} : { registry: opts.registry }),
      })
      return { binDir: path.dirname(result.nodePath), cached: result.cached }
    },
  }
}

export type RuntimePins = ReturnType<typeof createRuntimePins>

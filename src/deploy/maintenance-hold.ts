import type { DeployDeps } from './types.js'
import { saveDeployState } from './deploy-state.js'

interface Hold {
  count: number
  /**
   * The maintenance flag to go back to when the last hold ends: the value from before the first hold
   * (resolved once the flag is on and published), or what `setMaintenance` decided meanwhile.
   */
  previous: Promise<number>
}

/**
 * Maintenance mode held by the platform while it replaces an environment's data (a restore): the edge
 * answers 503 for the environment until the hold is released, then the flag goes back to what it was
 * before the first hold (nested holds of one environment share it).
 *
 * The flag is written to the store, not kept in memory, on purpose: if the control plane dies in the
 * middle of a restore, the data may be half-replaced, and the environment stays in maintenance until the
 * next start has put the data from before the restore back (the restore journal, docs/crash-safety.md).
 */
export function createMaintenanceHold(
  deps: Pick<DeployDeps, 'db' | 'clock'>,
  publish: (envId: string) => Promise<unknown>,
) {
  const { db, clock } = deps
  const holds = new Map<string, Hold>()
  // Turning the flag on and off is serialised per environment, so a new hold never reads the flag while
  // the release of the previous one is still writing it.
  const tails = new Map<string, Promise<unknown>>()
  const serial = <T>(envId: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(envId) ?? Promise.resolve()).catch(() => undefined).then(fn)
    const tail = run.catch(() => undefined)
    tails.set(envId, tail)
    void tail.then(() => {
      if (tails.get(envId) === tail) tails.delete(envId)
    })
    return run
  }

  async function flag(envId: string): Promise<number> {
    const row = await db
      .selectFrom('deploy_states')
      .select('maintenance')
      .where('environment_id', '=', envId)
      .executeTakeFirst()
    return row?.maintenance ?? 0
  }

  async function setFlag(envId: string, maintenance: number): Promise<void> {
    await saveDeployState(db, envId, { maintenance }, clock.now().toISOString())
    await publish(envId)
  }

  return {
    /**
     * Turns maintenance mode on for `envId` (published to the edge before this resolves) and returns the
     * function that releases the hold. Call the release in a `finally`: it restores the previous state.
     */
    async holdMaintenance(envId: string): Promise<() => Promise<void>> {
      let hold = holds.get(envId)
      if (!hold) {
        const previous = serial(envId, async () => {
          const before = await flag(envId)
          await setFlag(envId, 1)
          return before
        })
        hold = { count: 0, previous }
        holds.set(envId, hold)
      }
      const h = hold
      h.count++
      let previous: number
      try {
        previous = await h.previous
      } catch (error) {
        if (--h.count === 0 && holds.get(envId) === h) holds.delete(envId)
        throw error
      }
      let released = false
      return async () => {
        if (released) return
        released = true
        if (--h.count > 0) return
        if (holds.get(envId) === h) holds.delete(envId)
        await serial(envId, async () => setFlag(envId, await h.previous.catch(() => previous)))
      }
    },

    /** The maintenance flag as stored now (platform work: crash recovery of a restore). */
    async maintenanceOf(envId: string): Promise<boolean> {
      return (await flag(envId)) === 1
    },

    /**
     * Sets the maintenance flag for good (an incident's restriction): written and published now, and kept
     * when holds in progress end, instead of the value from before them.
     */
    async setMaintenance(envId: string, on: boolean): Promise<void> {
      const value = on ? 1 : 0
      const hold = holds.get(envId)
      if (hold) hold.previous = Promise.resolve(value)
      await serial(envId, () => setFlag(envId, value))
    },
  }
}

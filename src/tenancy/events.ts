/**
 * What tenancy tells the rest of the platform after a change is committed: environments whose default host
 * changed (a workspace, project or environment rename) and environments whose variables changed. Capabilities
 * above tenancy (deploy: republish routes; the edge's log masking: secret values) subscribe; tenancy imports
 * none of them. Listeners run after the commit, before the use case answers, so a rename is served under its
 * new name by the time the API says it is done.
 */
export interface TenancyEvents {
  onHostsChanged(listener: (environmentIds: readonly string[]) => Promise<void> | void): void
  onVariablesChanged(listener: (environmentId: string) => Promise<void> | void): void
  hostsChanged(environmentIds: readonly string[]): Promise<void>
  variablesChanged(environmentId: string): Promise<void>
}

/** Calls every listener; one that throws or rejects does not stop the others (listeners log their own). */
async function notify<T>(listeners: ReadonlyArray<(arg: T) => Promise<void> | void>, arg: T): Promise<void> {
  await Promise.allSettled(listeners.map(async (listener) => listener(arg)))
}

export function createTenancyEvents(): TenancyEvents {
  const hosts: Array<(ids: readonly string[]) => Promise<void> | void> = []
  const variables: Array<(id: string) => Promise<void> | void> = []
  return {
    onHostsChanged: (listener) => void hosts.push(listener),
    onVariablesChanged: (listener) => void variables.push(listener),
    hostsChanged: (ids) => (ids.length === 0 ? Promise.resolve() : notify(hosts, ids)),
    variablesChanged: (id) => notify(variables, id),
  }
}

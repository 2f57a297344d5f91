/**
 * Test fixtures for the Kubernetes driver: the real test control plane (scripts/kube-test-cluster.sh) and a
 * simulated kubelet. Not used by production code.
 *
 * The cluster is found through PALISADE_TEST_KUBECONFIG, else the well-known
 * /var/lib/palisade/kube-test/kubeconfig of `kube-test-cluster.sh ensure`, which is run (building the binaries
 * once, ~12-20 minutes) when nothing answers there.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import {
  createKubeClient,
  credentialsFromKubeconfig,
  isRecord,
  type KubeClient,
  type KubeObject,
} from './kube-client.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')
export const CLUSTER_SCRIPT = path.join(ROOT, 'scripts', 'kube-test-cluster.sh')
export const WELL_KNOWN_KUBECONFIG = '/var/lib/palisade/kube-test/kubeconfig'

let ensured: Promise<string> | null = null

/** The kubeconfig of a running test control plane (started if absent). */
export function testKubeconfig(): Promise<string> {
  ensured ??= (async () => {
    // Tests may not read process.env through config/, but the fixture is test-only.
    const fromEnv = process.env['PALISADE_TEST_KUBECONFIG']
    if (fromEnv) return fromEnv
    if (existsSync(WELL_KNOWN_KUBECONFIG) && (await answers(WELL_KNOWN_KUBECONFIG)))
      return WELL_KNOWN_KUBECONFIG
    return new Promise<string>((resolve, reject) => {
      execFile(
        CLUSTER_SCRIPT,
        ['ensure'],
        { timeout: 60 * 60_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err)
            reject(new Error(`kube-test-cluster.sh ensure failed: ${stderr.slice(-2000)}`, { cause: err }))
          else resolve(stdout.trim().split('\n').at(-1) ?? WELL_KNOWN_KUBECONFIG)
        },
      )
    })
  })()
  return ensured
}

async function answers(kubeconfig: string): Promise<boolean> {
  try {
    const res = await createKubeClient(credentialsFromKubeconfig(kubeconfig)).request('GET', '/readyz')
    return res.status === 200
  } catch {
    return false
  }
}

/** An admin client (system:masters) on the test control plane. */
export async function adminClient(): Promise<KubeClient> {
  return createKubeClient(credentialsFromKubeconfig(await testKubeconfig()))
}

export const SIM_NODE = 'palisade-sim-node'

export interface SimulatedKubelet {
  stop(): Promise<void>
}

/**
 * The only simulated part: there is no kubelet, so pods of Palisade-managed namespaces are bound to a fake
 * Node and given a status, which lets the real controllers (Deployment, ReplicaSet, StatefulSet, Job,
 * Endpoints, namespace deletion) do the rest. Rules: an image whose name contains `unready` runs but never
 * becomes Ready; a job pod (label `palisade.dev/job`) succeeds, or fails when its command is `false`;
 * build pods (kaniko) are bound and stay Pending: nothing here can run an image — unless `builds` is
 * `succeed`, when a build pod is marked Succeeded without anything having run (no image is built or pushed:
 * the release's Deployment then names an image that does not exist, which only a real kubelet would notice).
 */
export async function startSimulatedKubelet(
  client: KubeClient,
  pollMs = 200,
  options: { readonly builds?: 'pending' | 'succeed' } = {},
): Promise<SimulatedKubelet> {
  const node = await client.get('v1', 'Node', undefined, SIM_NODE)
  if (!node) {
    const res = await client.request('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: SIM_NODE, labels: { 'kubernetes.io/hostname': SIM_NODE } },
    })
    if (res.status !== 201 && res.status !== 409)
      throw new Error(`creating the simulated node: HTTP ${res.status}`)
  }
  let ipSeq = Math.floor(Math.random() * 60_000)
  let running = true
  const tick = async (): Promise<void> => {
    const res = await client.request(
      'GET',
      '/api/v1/pods?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dpalisade',
    )
    const items =
      isRecord(res.body) && Array.isArray(res.body['items']) ? (res.body['items'] as KubeObject[]) : []
    for (const pod of items) {
      const ns = pod.metadata.namespace ?? ''
      const name = pod.metadata.name
      const spec = isRecord(pod['spec']) ? pod['spec'] : {}
      const status = isRecord(pod['status']) ? pod['status'] : {}
      if (pod.metadata['deletionTimestamp']) {
        // A kubelet confirms the container stopped by deleting with grace 0.
        await client.request('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
        })
        continue
      }
      if (!spec['nodeName']) {
        await client.request('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name },
          target: { apiVersion: 'v1', kind: 'Node', name: SIM_NODE },
        })
        continue
      }
      const isBuild = pod.metadata.labels?.['palisade.dev/role'] === 'build'
      if (status['phase'] !== 'Pending' || (isBuild && options.builds !== 'succeed')) continue
      const containers = Array.isArray(spec['containers'])
        ? (spec['containers'] as Array<Record<string, unknown>>)
        : []
      const now = new Date().toISOString()
      const isJob = pod.metadata.labels?.['palisade.dev/job'] !== undefined || isBuild
      const fails =
        isJob &&
        Array.isArray(containers[0]?.['command']) &&
        (containers[0]['command'] as unknown[])[0] === 'false'
      const ready = !isJob && !containers.some((c) => String(c['image']).includes('unready'))
      ipSeq = (ipSeq + 1) % 65_000
      const podIP = `10.244.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 2}`
      const cond = (type: string, ok: boolean) => ({
        type,
        status: ok ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: now,
      })
      await client.request(
        'PATCH',
        `/api/v1/namespaces/${ns}/pods/${name}/status`,
        {
          status: {
            phase: isJob ? (fails ? 'Failed' : 'Succeeded') : 'Running',
            hostIP: '127.0.0.1',
            podIP,
            podIPs: [{ ip: podIP }],
            startTime: now,
            conditions: [
              cond('Initialized', true),
              cond('Ready', ready),
              cond('ContainersReady', ready),
              cond('PodScheduled', true),
            ],
            containerStatuses: containers.map((c) => ({
              name: c['name'],
              image: c['image'],
              imageID: '',
              ready,
              restartCount: 0,
              started: !isJob,
              state: isJob
                ? {
                    terminated: {
                      exitCode: fails ? 1 : 0,
                      reason: fails ? 'Error' : 'Completed',
                      startedAt: now,
                      finishedAt: now,
                    },
                  }
                : { running: { startedAt: now } },
            })),
          },
        },
        'application/merge-patch+json',
      )
    }
  }
  const loop = (async () => {
    while (running) {
      try {
        await tick()
      } catch {
        // The API server restarting or a pod gone mid-tick: try again on the next one.
      }
      await sleep(pollMs)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
    },
  }
}

import type { Config } from '../config/index.js'
import {
  createKubeClient,
  credentialsFromKubeconfig,
  inClusterCredentials,
  type KubeClient,
} from './drivers/kubernetes/kube-client.js'

/** The cluster client the settings name: KUBECONFIG, else the pod's in-cluster service account. */
export function kubeClientFor(
  config: Pick<Config, 'kubeconfig' | 'kubernetesServiceHost' | 'kubernetesServicePort'>,
): KubeClient {
  if (config.kubeconfig) return createKubeClient(credentialsFromKubeconfig(config.kubeconfig))
  return createKubeClient(
    inClusterCredentials(
      config.kubernetesServiceHost ?? 'kubernetes.default.svc',
      config.kubernetesServicePort ?? '443',
    ),
  )
}

/** Error codes of the Kubernetes driver (unique across the project; see kube-errors.test.ts). */
export const KUBE_ERRORS = {
  /** A value Palisade refuses before anything reaches the cluster (name, size, port, CIDR, image). */
  invalid: 'PAL_KUBE_INVALID',
  /** A manifest that does not match the Kubernetes schema (kubernetes-models), refused before sending. */
  manifestInvalid: 'PAL_KUBE_MANIFEST_INVALID',
  /** The API server answered 422 (e.g. a label over 63 characters). */
  rejected: 'PAL_KUBE_REJECTED',
  /** The API server answered 403: the control plane's RBAC role does not grant the call. */
  forbidden: 'PAL_KUBE_FORBIDDEN',
  /** What was read back differs from what was sent (a field dropped, NetworkPolicy peers lost). */
  readbackMismatch: 'PAL_KUBE_READBACK_MISMATCH',
  conflict: 'PAL_KUBE_CONFLICT',
  notFound: 'PAL_KUBE_NOT_FOUND',
  /** The API server could not be reached, or answered an unexpected status. */
  unavailable: 'PAL_KUBE_UNAVAILABLE',
  /** A kubeconfig or in-cluster credential that cannot be used. */
  credentials: 'PAL_KUBE_CREDENTIALS',
  /** A rollout, job or deletion that did not finish in time. */
  timeout: 'PAL_KUBE_TIMEOUT',
  /** A rollout or job that finished badly. */
  failed: 'PAL_KUBE_FAILED',
} as const

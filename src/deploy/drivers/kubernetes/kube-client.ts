import { readFileSync } from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ConflictError, InvalidError, PalisadeError, UnprocessableError } from '../../../shared/errors.js'
import { KUBE_ERRORS } from './kube-errors.js'

/**
 * A minimal Kubernetes API client over node:https: plain JSON in and out, server-side apply with the
 * field manager `palisade`. No typed models on the wire: `@kubernetes/client-node`'s models rename
 * NetworkPolicy `from` to `_from`, and a policy sent through them loses its peers (allows everything).
 */

export interface KubeCredentials {
  readonly server: string
  /** PEM of the cluster CA; without it the system CAs are used. Never skipped. */
  readonly ca?: string | undefined
  readonly token?: string | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
}

/** A Kubernetes object as JSON. */
export interface KubeObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: {
    readonly name: string
    readonly namespace?: string
    readonly labels?: Readonly<Record<string, string>>
    readonly annotations?: Readonly<Record<string, string>>
    readonly resourceVersion?: string
    readonly [k: string]: unknown
  }
  readonly [k: string]: unknown
}

export interface KubeResponse {
  readonly status: number
  readonly body: unknown
}

const FIELD_MANAGER = 'palisade'
/** Bounds what a hostile or broken API server can make the control plane buffer. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024
const REQUEST_TIMEOUT_MS = 30_000

/** Kinds this driver sends, with their REST path parts. */
const RESOURCES: Readonly<
  Record<string, { readonly group: string; readonly plural: string; readonly namespaced: boolean }>
> = {
  'v1/Namespace': { group: 'api/v1', plural: 'namespaces', namespaced: false },
  'v1/Node': { group: 'api/v1', plural: 'nodes', namespaced: false },
  'v1/Service': { group: 'api/v1', plural: 'services', namespaced: true },
  'v1/Secret': { group: 'api/v1', plural: 'secrets', namespaced: true },
  'v1/ConfigMap': { group: 'api/v1', plural: 'configmaps', namespaced: true },
  'v1/PersistentVolumeClaim': { group: 'api/v1', plural: 'persistentvolumeclaims', namespaced: true },
  'v1/Pod': { group: 'api/v1', plural: 'pods', namespaced: true },
  'v1/ServiceAccount': { group: 'api/v1', plural: 'serviceaccounts', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    group: 'apis/rbac.authorization.k8s.io/v1',
    plural: 'clusterroles',
    namespaced: false,
  },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    group: 'apis/rbac.authorization.k8s.io/v1',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
  'apps/v1/Deployment': { group: 'apis/apps/v1', plural: 'deployments', namespaced: true },
  'apps/v1/StatefulSet': { group: 'apis/apps/v1', plural: 'statefulsets', namespaced: true },
  'apps/v1/ReplicaSet': { group: 'apis/apps/v1', plural: 'replicasets', namespaced: true },
  'batch/v1/Job': { group: 'apis/batch/v1', plural: 'jobs', namespaced: true },
  'networking.k8s.io/v1/NetworkPolicy': {
    group: 'apis/networking.k8s.io/v1',
    plural: 'networkpolicies',
    namespaced: true,
  },
}

/** The REST path of an object (or of its collection when `name` is empty). */
export function objectPath(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  const r = RESOURCES[`${apiVersion}/${kind}`]
  if (!r) throw new InvalidError(KUBE_ERRORS.invalid, `the driver does not handle ${apiVersion} ${kind}`)
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? '')}` : ''
  return `/${r.group}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`
}

/** Reads a kubeconfig file (its current context). Relative file references resolve beside it. */
export function credentialsFromKubeconfig(file: string): KubeCredentials {
  let doc: unknown
  try {
    doc = parseYaml(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new InvalidError(KUBE_ERRORS.credentials, `KUBECONFIG ${file} cannot be read`, { cause })
  }
  const bad = (what: string): never => {
    throw new InvalidError(KUBE_ERRORS.credentials, `KUBECONFIG ${file}: ${what}`)
  }
  if (!isRecord(doc)) return bad('not a kubeconfig')
  const named = (list: unknown, name: unknown, key: string): Record<string, unknown> => {
    const item: unknown = Array.isArray(list)
      ? (list as unknown[]).find((x) => isRecord(x) && x['name'] === name)
      : undefined
    if (!isRecord(item) || !isRecord(item[key])) return bad(`no ${key} named ${String(name)}`)
    return item[key]
  }
  const context = named(doc['contexts'], doc['current-context'], 'context')
  const cluster = named(doc['clusters'], context['cluster'], 'cluster')
  const user = named(doc['users'], context['user'], 'user')
  const dir = path.dirname(file)
  const material = (obj: Record<string, unknown>, dataKey: string, fileKey: string): string | undefined => {
    const data = obj[dataKey]
    if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8')
    const f = obj[fileKey]
    if (typeof f === 'string') return readFileSync(path.resolve(dir, f), 'utf8')
    return undefined
  }
  if (cluster['insecure-skip-tls-verify'] === true) {
    bad('insecure-skip-tls-verify is refused: give the cluster CA (certificate-authority)')
  }
  const server = cluster['server']
  if (typeof server !== 'string' || !/^https:\/\//.test(server))
    return bad('the cluster server must be an https URL')
  const tokenFile = user['tokenFile']
  const token =
    typeof user['token'] === 'string'
      ? user['token']
      : typeof tokenFile === 'string'
        ? readFileSync(path.resolve(dir, tokenFile), 'utf8').trim()
        : undefined
  const creds: KubeCredentials = {
    server: server.replace(/\/+$/, ''),
    ca: material(cluster, 'certificate-authority-data', 'certificate-authority'),
    token,
    cert: material(user, 'client-certificate-data', 'client-certificate'),
    key: material(user, 'client-key-data', 'client-key'),
  }
  if (!creds.token && !(creds.cert && creds.key))
    bad('the user has neither a token nor a client certificate and key')
  return creds
}

/** The pod's service account (in-cluster), as Kubernetes mounts it. */
export function inClusterCredentials(
  host: string,
  port: string,
  dir = '/var/run/secrets/kubernetes.io/serviceaccount',
): KubeCredentials {
  try {
    return {
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ca: readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
      token: readFileSync(path.join(dir, 'token'), 'utf8').trim(),
    }
  } catch (cause) {
    throw new InvalidError(KUBE_ERRORS.credentials, 'in-cluster service account credentials cannot be read', {
      cause,
    })
  }
}

export interface KubeClient {
  readonly server: string
  request(method: string, urlPath: string, body?: unknown, contentType?: string): Promise<KubeResponse>
  /** GET; `undefined` on 404. */
  get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined>
  list(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector?: string,
  ): Promise<KubeObject[]>
  /** Server-side apply (field manager `palisade`, conflicts forced); answers the object as stored. */
  apply(obj: KubeObject, options?: { readonly dryRun?: boolean }): Promise<KubeObject>
  /** DELETE; false when it was already gone. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<boolean>
  /** POST to a collection (SelfSubjectAccessReview, Binding). */
  create(urlPath: string, obj: unknown): Promise<unknown>
}

export function createKubeClient(credentials: KubeCredentials): KubeClient {
  const creds = Object.freeze({ ...credentials })
  const base = new URL(creds.server)
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    ...(creds.ca ? { ca: creds.ca } : {}),
    ...(creds.cert ? { cert: creds.cert } : {}),
    ...(creds.key ? { key: creds.key } : {}),
  })

  const request = (
    method: string,
    urlPath: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<KubeResponse> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
      const req = https.request(
        {
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[|\]$/g, ''),
          port: base.port || 443,
          path: `${base.pathname.replace(/\/+$/, '')}${urlPath}`,
          method,
          agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            accept: 'application/json',
            ...(creds.token ? { authorization: `Bearer ${creds.token}` } : {}),
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (c: Buffer) => {
            size += c.length
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy()
              reject(
                unavailable(
                  `the API server's answer to ${method} ${urlPath} is over ${MAX_RESPONSE_BYTES} bytes`,
                ),
              )
              return
            }
            chunks.push(c)
          })
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: unknown = text
            try {
              parsed = text ? JSON.parse(text) : undefined
            } catch {
              // A non-JSON answer (a proxy's error page) is kept as text for the error message.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed })
          })
          res.on('error', (cause) =>
            reject(unavailable(`reading the answer to ${method} ${urlPath} failed`, cause)),
          )
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)))
      req.on('error', (cause) =>
        reject(unavailable(`the API server ${creds.server} cannot be reached`, cause)),
      )
      req.end(payload)
    })

  const expectOk = (res: KubeResponse, what: string): unknown => {
    if (res.status >= 200 && res.status < 300) return res.body
    throw errorFromStatus(res, what)
  }

  const client: KubeClient = {
    server: creds.server,
    request,
    async get(apiVersion, kind, namespace, name) {
      const res = await request('GET', objectPath(apiVersion, kind, namespace, name))
      if (res.status === 404) return undefined
      return expectOk(res, `get ${kind} ${name}`) as KubeObject
    },
    async list(apiVersion, kind, namespace, labelSelector) {
      const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : ''
      const res = await request('GET', `${objectPath(apiVersion, kind, namespace, '')}${q}`)
      if (res.status === 404) return []
      const body = expectOk(res, `list ${kind}`)
      return isRecord(body) && Array.isArray(body['items']) ? (body['items'] as KubeObject[]) : []
    },
    async apply(obj, options = {}) {
      const q = `?fieldManager=${FIELD_MANAGER}&force=true${options.dryRun ? '&dryRun=All' : ''}`
      const p = objectPath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name)
      // JSON is YAML: the apply patch is the manifest as plain JSON.
      const res = await request('PATCH', `${p}${q}`, obj, 'application/apply-patch+yaml')
      return expectOk(res, `apply ${obj.kind} ${obj.metadata.name}`) as KubeObject
    },
    async remove(apiVersion, kind, namespace, name) {
      const res = await request('DELETE', objectPath(apiVersion, kind, namespace, name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
      })
      if (res.status === 404) return false
      expectOk(res, `delete ${kind} ${name}`)
      return true
    },
    async create(urlPath, obj) {
      return expectOk(await request('POST', urlPath, obj), `create at ${urlPath}`)
    },
  }
  return Object.freeze(client)
}

/** Maps an API server error status to Palisade's error kinds; the message carries the server's reason. */
export function errorFromStatus(res: KubeResponse, what: string): PalisadeError {
  const msg = isRecord(res.body) && typeof res.body['message'] === 'string' ? res.body['message'] : ''
  const detail = `${what}: ${msg || `HTTP ${res.status}`}`.slice(0, 1000)
  switch (res.status) {
    case 403:
      // The control plane's own role lacks the call: a fault of the installation, not of the API caller.
      return new PalisadeError(
        'unavailable',
        KUBE_ERRORS.forbidden,
        `the cluster refused ${detail} (check deploy/kubernetes/rbac.yaml)`,
      )
    case 409:
      return new ConflictError(KUBE_ERRORS.conflict, `the cluster reported a conflict on ${detail}`)
    case 400:
    case 422:
      return new UnprocessableError(KUBE_ERRORS.rejected, `the cluster refused ${detail}`)
    default:
      // Server-side apply refuses a field outside the schema with a 500 naming it: the manifest is at fault.
      if (/field not declared in schema|failed to create typed patch object/.test(msg))
        return new UnprocessableError(KUBE_ERRORS.rejected, `the cluster refused ${detail}`)
      return unavailable(`the cluster failed ${detail}`)
  }
}

function unavailable(message: string, cause?: unknown): PalisadeError {
  return new PalisadeError(
    'unavailable',
    KUBE_ERRORS.unavailable,
    message,
    cause === undefined ? {} : { cause },
  )
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** Query parameters whose values never reach a log line. Matched case-insensitively, also as suffixes (`access_token`). */
const SECRET_PARAMS = [
  'password',
  'passwd',
  'pwd',
  'token',
  'secret',
  'api_key',
  'apikey',
  'key',
  'signature',
  'code',
]

const MASK = '***'

function isSecretName(name: string): boolean {
  const lower = name.toLowerCase()
  return SECRET_PARAMS.some((s) => lower === s || lower.endsWith(`_${s}`) || lower.endsWith(`-${s}`))
}

/** Masks secret query parameter values in a request target or URL. The path itself is kept. */
export function maskUrl(target: string): string {
  const q = target.indexOf('?')
  if (q === -1) return target
  const hash = target.indexOf('#', q)
  const query = hash === -1 ? target.slice(q + 1) : target.slice(q + 1, hash)
  const masked = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const rawName = eq === -1 ? pair : pair.slice(0, eq)
      let name = rawName
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '))
      } catch {
        // keep the raw name; a malformed escape must not hide a secret
      }
      return eq !== -1 && isSecretName(name) ? `${rawName}=${MASK}` : pair
    })
    .join('&')
  return `${target.slice(0, q)}?${masked}`
}

/** `Basic abc...` → `Basic ***`: the scheme is useful, the credentials never are. */
export function maskAuthorization(value: string | undefined): string | null {
  if (!value) return null
  const space = value.indexOf(' ')
  return space === -1 ? MASK : `${value.slice(0, space)} ${MASK}`
}

/** `a=1; b=2` → `a=***; b=***`: cookie names help debugging, values are sessions. */
export function maskCookie(value: string | undefined): string | null {
  if (!value) return null
  return value
    .split(';')
    .map((part) => {
      const eq = part.indexOf('=')
      return eq === -1 ? part.trim() : `${part.slice(0, eq).trim()}=${MASK}`
    })
    .join('; ')
}

/**
 * Masking for the access log and WAF events: by rule, not by a list of whole names alone.
 *
 * - A query (or form) parameter is secret when any word of any part of its name is a secret word: names are
 *   percent-decoded, split into parts at `[`, `]` and `.` (`user[password]`, `password[]`, `user.password`)
 *   and into words at `_`, `-` and camelCase boundaries (`newPassword`, `x-api-token`), case-insensitively.
 * - A path parameter (`;jsessionid=…`) is secret by the same rule.
 * - A path segment that looks like a token (long and high-entropy: reset links `/reset/<token>`, JWTs, hex
 *   digests) is masked whole.
 * - Any value that equals one of the environment's secret variables is masked wherever it appears.
 */

/** Words that make a parameter name secret. */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'token',
  'secret',
  'apikey',
  'key',
  'signature',
  'sig',
  'code',
  'otp',
  'totp',
  'jwt',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'session',
  'sessionid',
  'sid',
  'jsessionid',
  'phpsessid',
  'aspsessionid',
  'csrf',
  'xsrf',
  'cookie',
  'bearer',
  'saml',
  'samlresponse',
  'ticket',
])

export const MASK = '***'
/** Shorter secret values are not searched for: masking every "1" or "on" would hide the whole log. */
const MIN_SECRET_VALUE = 6

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text // a malformed escape must not hide a secret: the raw text is judged instead
  }
}

/**
 * Answers of `isSecretName` for names as sent (the same few names come back on every request: `page`, `q`,
 * `password`): bounded, emptied whole when full, so a flood of random names costs a clear now and then.
 */
const secretNameCache = new Map<string, boolean>()
const SECRET_NAME_CACHE_SIZE = 1024
const SECRET_NAME_CACHE_LENGTH = 64

/** `isSecretName(decode(rawName))`, remembered for short names. */
function isSecretRawName(rawName: string): boolean {
  if (rawName.length > SECRET_NAME_CACHE_LENGTH) return isSecretName(decode(rawName))
  let secret = secretNameCache.get(rawName)
  if (secret === undefined) {
    secret = isSecretName(decode(rawName))
    if (secretNameCache.size >= SECRET_NAME_CACHE_SIZE) secretNameCache.clear()
    secretNameCache.set(rawName, secret)
  }
  return secret
}

/**
 * Whether a raw (still percent-encoded) text may decode to a token-like one: decoding never lengthens a
 * text, and `isTokenLike` wants 16 characters or more.
 */
function mayBeToken(raw: string): boolean {
  return raw.length >= 16 && isTokenLike(decode(raw))
}

/** Whether a parameter name (already decoded) names a secret, by its parts and words. */
export function isSecretName(name: string): boolean {
  for (const part of name.split(/[[\].]+/)) {
    if (part === '') continue
    if (SECRET_WORDS.has(part.toLowerCase())) return true
    const words = part
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
      .toLowerCase()
      .split(/[\s_\-:]+/)
    if (words.some((w) => SECRET_WORDS.has(w))) return true
    // glued spellings: apikey, accesstoken, newpassword, sessionid
    const lower = part.toLowerCase()
    if (/(password|passwd|token|secret|apikey|sessionid|jwt|otp)$/.test(lower)) return true
  }
  return false
}

const STATIC_FILE = /\.(?:js|mjs|css|map|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|otf|html?|txt|xml|pdf)$/i

function entropyBitsPerChar(text: string): number {
  const counts = new Map<string, number>()
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1)
  let bits = 0
  for (const n of counts.values()) {
    const p = n / text.length
    bits -= p * Math.log2(p)
  }
  return bits
}

/**
 * Whether a path segment (decoded) looks like a credential rather than a name: a JWT, a hex digest or
 * id of 16+ characters, a mixed-case-and-digits string of 16+, or any 20+ character string of token
 * characters with an entropy of 4 bits per character or more (English slugs stay well below).
 */
export function isTokenLike(segment: string): boolean {
  if (segment.length < 16 || !/^[A-Za-z0-9._~+=-]+$/.test(segment)) return false
  // fingerprinted static files (`main.3f2a9c1b4d5e6f70.js`) are names, and useful in a log
  if (STATIC_FILE.test(segment)) return false
  if (/^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./.test(segment)) return true
  const digits = /[0-9]/.test(segment)
  if (/^[0-9a-f-]+$/i.test(segment) && digits && /[a-f]/i.test(segment)) return true
  if (digits && /[a-z]/.test(segment) && /[A-Z]/.test(segment)) return true
  return segment.length >= 20 && entropyBitsPerChar(segment) >= 4
}

/** Whether a path has a segment of 16 characters or more, or path parameters (`;`): else nothing to mask. */
function pathMayHaveSecrets(path: string): boolean {
  if (path.includes(';')) return true
  if (path.length < 16) return false
  let start = 0
  for (;;) {
    const end = path.indexOf('/', start)
    if ((end === -1 ? path.length : end) - start >= 16) return true
    if (end === -1) return false
    start = end + 1
  }
}

function maskPath(path: string): string {
  if (!pathMayHaveSecrets(path)) return path
  return path
    .split('/')
    .map((segment) => {
      const semi = segment.indexOf(';')
      const base = semi === -1 ? segment : segment.slice(0, semi)
      let out = mayBeToken(base) ? MASK : base
      if (semi !== -1) {
        // path parameters: `;jsessionid=ABC`, `;token=…`
        out += segment
          .slice(semi)
          .split(';')
          .slice(1)
          .map((param) => {
            const eq = param.indexOf('=')
            if (eq === -1) return `;${param}`
            const name = param.slice(0, eq)
            return isSecretRawName(name) || mayBeToken(param.slice(eq + 1)) ? `;${name}=${MASK}` : `;${param}`
          })
          .join('')
      }
      return out
    })
    .join('/')
}

/** Masks `a=1&password=2` pairs (a query string or a URL-encoded form) by the parameter-name rule. */
export function maskForm(query: string): string {
  // One pass; a new string only from the first pair that is masked (most queries have none).
  let out: string | undefined
  let start = 0
  for (;;) {
    const amp = query.indexOf('&', start)
    const end = amp === -1 ? query.length : amp
    const eq = query.indexOf('=', start)
    if (eq !== -1 && eq < end) {
      const rawName = query.slice(start, eq)
      if (isSecretRawName(rawName) || mayBeToken(query.slice(eq + 1, end))) {
        out = `${out ?? query.slice(0, start)}${rawName}=${MASK}`
      } else if (out !== undefined) out += query.slice(start, end)
    } else if (out !== undefined) out += query.slice(start, end)
    if (amp === -1) return out ?? query
    if (out !== undefined) out += '&'
    start = amp + 1
  }
}

/** Replaces every occurrence of a secret value, as sent or percent-encoded. */
export function maskValues(text: string, secrets: Iterable<string> | undefined): string {
  if (!secrets) return text
  let out = text
  for (const value of secrets) {
    if (value.length < MIN_SECRET_VALUE) continue
    // as sent, percent-encoded, and percent-encoded with `+` for spaces (each distinct form once)
    if (out.includes(value)) out = out.split(value).join(MASK)
    const encoded = encodeURIComponent(value)
    if (encoded === value) continue
    if (out.includes(encoded)) out = out.split(encoded).join(MASK)
    const plus = encoded.replace(/%20/g, '+')
    if (plus !== encoded && out.includes(plus)) out = out.split(plus).join(MASK)
  }
  return out
}

/**
 * Masks a request target or URL for a log line: token-like path segments, secret path parameters and query
 * parameters, and (when given) every value equal to one of the environment's secret variables.
 */
export function maskUrl(target: string, secrets?: Iterable<string>): string {
  const hashAt = target.indexOf('#')
  const noFragment = hashAt === -1 ? target : target.slice(0, hashAt)
  const q = noFragment.indexOf('?')
  const before = q === -1 ? noFragment : noFragment.slice(0, q)
  // keep a scheme and authority (a Referer is a whole URL) out of the path rules
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(before)?.[0] ?? ''
  let out = origin + maskPath(before.slice(origin.length))
  if (q !== -1) out += `?${maskForm(noFragment.slice(q + 1))}`
  return maskValues(out, secrets)
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
  // One pass over the header (it comes with every request of a logged-in visitor): no array per request.
  let out = ''
  let start = 0
  for (;;) {
    const end = value.indexOf(';', start)
    const stop = end === -1 ? value.length : end
    const eq = value.indexOf('=', start)
    const part =
      eq === -1 || eq > stop ? value.slice(start, stop).trim() : `${value.slice(start, eq).trim()}=${MASK}`
    out = start === 0 ? part : `${out}; ${part}`
    if (end === -1) return out
    start = end + 1
  }
}

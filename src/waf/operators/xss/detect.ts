/**
 * The XSS detector behind `@detectXSS`. It scans the input as HTML in the five contexts an injection
 * can start in (text, and inside an unquoted, '-, "- or `-quoted attribute value) and flags:
 * - tags that run script or change where the page loads from (script, iframe, object, svg, base ...)
 * - event-handler attributes (`on` + letters, with a value)
 * - URL attributes whose scheme runs script (javascript:, vbscript:, data:text/html ...), after
 *   decoding character references and dropping the whitespace browsers ignore inside a scheme
 * - style attributes with expression(), behavior, -moz-binding, @import or a script URL
 * - srcdoc, IE conditional comments, `<!DOCTYPE`/`<!ENTITY` declarations, `<?import`
 * - in an attribute-value context, a value that is itself a script URL followed by code
 * - between a tag's attributes (the input is attributes only: `onload=alert(1)`)
 * - in a JavaScript string, a quote that closes it, an operator and a call (`'-alert(1)//`)
 * Returns a reason such as `tag:script` or `attr:onerror`, or `null`.
 */
import { scanHtml } from './html-scan.js'
import { isJsStringBreakout } from './js-string.js'
import type { HtmlContext, HtmlVisitor } from './html-scan.js'

const DANGEROUS_TAGS = new Set(
  (
    'script iframe frame frameset object embed applet svg math style base link meta form xml import ' +
    'isindex bgsound layer ilayer portal xss vmlframe'
  ).split(' '),
)

/** End tags that break out of raw-text elements into script. */
const DANGEROUS_END_TAGS = new Set(['script', 'style'])

const URL_ATTRIBUTES = new Set(
  (
    'href src action formaction data background lowsrc dynsrc poster codebase cite longdesc usemap ' +
    'profile classid from to values by ping manifest icon archive code content srcset folder datasrc ' +
    'xmlns location'
  ).split(' '),
)

/** data: media types that cannot run script in a browser. */
const SAFE_DATA_TYPES = (
  'image/png image/gif image/jpeg image/jpg image/webp image/bmp image/x-icon ' +
  'text/plain audio/ video/ font/'
).split(' ')

const NAMED_REFS: Record<string, string> = {
  colon: ':',
  tab: '\t',
  newline: '\n',
  lpar: '(',
  rpar: ')',
  sol: '/',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  amp: '&',
  nbsp: ' ',
  semi: ';',
  period: '.',
  comma: ',',
  equals: '=',
  num: '#',
  bsol: '\\',
  grave: '`',
  excl: '!',
  plus: '+',
}

/** Keeps at most this many bytes of a value for scheme checks: a scheme is at the start. */
const SCHEME_WINDOW = 256

/**
 * What a browser sees as the start of a URL: character references decoded, ASCII whitespace and
 * control characters dropped (browsers strip them inside the scheme), lower-cased.
 */
export function normalizeUrlStart(value: string): string {
  let out = ''
  const n = Math.min(value.length, SCHEME_WINDOW)
  for (let i = 0; i < n && out.length < 64; i++) {
    let ch = value[i] as string
    if (ch === '&') {
      let j = i + 1
      let ref: string | undefined
      if (value[j] === '#') {
        j++
        const hex = value[j] === 'x' || value[j] === 'X'
        if (hex) j++
        let k = j
        while (
          k < n &&
          k - j < 8 &&
          /[0-9a-fA-F]/.test(value[k] as string) &&
          (hex || /[0-9]/.test(value[k] as string))
        )
          k++
        if (k > j) {
          const code = Number.parseInt(value.slice(j, k), hex ? 16 : 10)
          ref = code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ''
          j = k
        }
      } else {
        let k = j
        while (k < n && k - j < 10 && /[a-zA-Z]/.test(value[k] as string)) k++
        const name = value.slice(j, k).toLowerCase()
        if (NAMED_REFS[name] !== undefined) {
          ref = NAMED_REFS[name]
          j = k
        }
      }
      if (ref !== undefined) {
        if (value[j] === ';') j++
        i = j - 1
        ch = ref
      }
    }
    const c = ch.charCodeAt(0)
    if (c <= 0x20 || c === 0x7f) continue
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : ch
  }
  return out
}

/** The script-running scheme a URL starts with (`javascript`, `vbscript`, `data`), or `null`. */
export function scriptScheme(value: string): string | null {
  const u = normalizeUrlStart(value)
  if (u.startsWith('javascript:')) return 'javascript'
  if (u.startsWith('vbscript:')) return 'vbscript'
  if (u.startsWith('livescript:')) return 'livescript'
  if (u.startsWith('mocha:')) return 'mocha'
  if (u.startsWith('data:')) {
    const type = u.slice(5)
    if (SAFE_DATA_TYPES.some((t) => type.startsWith(t))) return null
    return 'data'
  }
  return null
}

function hasCode(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '(' || c === '`' || c === '=' || c === ';' || c === '[' || c === '{' || c === '%' || c === '\\')
      return true
  }
  return false
}

/** A value pasted into an attribute of unknown name: a script URL only counts with code after it. */
function isScriptValue(value: string): boolean {
  const scheme = scriptScheme(value)
  if (scheme === null) return false
  if (scheme === 'data') return value.includes(',') || value.includes('&#44')
  // `ja&tab;vascript:` : no text writes a scheme with references or control characters inside it
  const colonRaw = value.indexOf(':')
  const rawScheme = colonRaw < 0 ? value.slice(0, 32) : value.slice(0, colonRaw)
  if (rawScheme.trim().toLowerCase() !== scheme) return true
  const u = normalizeUrlStart(value)
  if (hasCode(u.slice(u.indexOf(':') + 1))) return true
  const colon = value.indexOf(':')
  return colon >= 0 && hasCode(value.slice(colon + 1, colon + 1 + SCHEME_WINDOW))
}

function isDangerousStyle(value: string): boolean {
  let s = ''
  const n = Math.min(value.length, 4096)
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    if (c <= 0x20 || c === 0x5c) continue // whitespace and CSS escapes' backslashes
    if (c === 0x2f && value.charCodeAt(i + 1) === 0x2a) {
      const close = value.indexOf('*/', i + 2)
      i = close < 0 ? n : close + 1
      continue
    }
    s += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : value[i]
  }
  return (
    s.includes('expression(') ||
    s.includes('javascript:') ||
    s.includes('vbscript:') ||
    s.includes('behavior:') ||
    s.includes('behaviour:') ||
    s.includes('-moz-binding') ||
    s.includes('@import')
  )
}

/** `xlink:href` is checked as `href`; `x:script` as `script`. */
function localName(name: string): string {
  const colon = name.lastIndexOf(':')
  return colon >= 0 ? name.slice(colon + 1) : name
}

/**
 * A handler body runs only if it names or calls something (or hides it in references);
 * `onclick="..."` is prose.
 */
function hasScriptChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x5f ||
      c === 0x24 ||
      c === 0x5b ||
      c === 0x28 ||
      c === 0x60 ||
      c === 0x26
    ) {
      return true
    }
  }
  return false
}

function isEventHandler(name: string): boolean {
  if (name.length < 5 || !name.startsWith('on')) return false
  for (let i = 2; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c < 0x61 || c > 0x7a) return false
  }
  return true
}

const visitor: HtmlVisitor = {
  tag(name) {
    const local = localName(name)
    return DANGEROUS_TAGS.has(local) ? `tag:${local}` : null
  },
  endTag(name) {
    const local = localName(name)
    return DANGEROUS_END_TAGS.has(local) ? `endtag:${local}` : null
  },
  attribute(name, value) {
    if (name === '') return value !== null && isScriptValue(value) ? 'value:script-url' : null
    if (value === null) return null
    const local = localName(name)
    if (isEventHandler(local) && (value === '' || hasScriptChar(value))) return `attr:${local}`
    if (local === 'srcdoc') return 'attr:srcdoc'
    if (local === 'style') return isDangerousStyle(value) ? 'attr:style' : null
    if (URL_ATTRIBUTES.has(local)) {
      const scheme = scriptScheme(value)
      return scheme === null ? null : `url:${scheme}`
    }
    return null
  },
  markup(kind, text) {
    const lower = lowerStart(text, 32)
    switch (kind) {
      case 'comment':
        return lower.startsWith('[if') || lower.includes('<![endif') ? 'markup:conditional-comment' : null
      case 'declaration':
        if (lower.startsWith('doctype')) return 'markup:doctype'
        if (lower.startsWith('entity')) return 'markup:entity'
        return lower.startsWith('[cdata[') ? 'markup:cdata' : null
      case 'instruction':
        return lower.startsWith('import') || lower.startsWith('xml-stylesheet') ? 'markup:instruction' : null
    }
  },
}

/**
 * Between attributes the input has no tag to vouch for it, so an event handler counts only when its
 * value calls something (`onload=alert(1)`, `` onerror=alert`1` ``) or hides it in references:
 * `online=true` is a parameter, not a handler.
 */
const attributesVisitor: HtmlVisitor = {
  ...visitor,
  attribute(name, value) {
    if (value !== null && isEventHandler(localName(name))) {
      const calls = value.includes('(') || value.includes('`') || value.includes('&')
      if (!calls) return null
    }
    return visitor.attribute(name, value)
  },
}

function lowerStart(s: string, max: number): string {
  let out = ''
  const n = Math.min(s.length, max)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : s[i]
  }
  return out
}

const QUOTED: readonly HtmlContext[] = ["'", '"', '`']

/** The reason the input reads as an XSS payload in some context, or `null`. */
export function detectXssReason(input: string): string | null {
  const data = scanHtml(input, 'data', visitor)
  if (data !== null) return data
  const unquoted = scanHtml(input, 'unquoted', visitor)
  if (unquoted !== null) return unquoted
  // Between a tag's attributes: `onload=alert(1)`, `href="javascript&colon;alert(1)"`.
  if (input.includes('=')) {
    const attrs = scanHtml(input, 'attributes', attributesVisitor)
    if (attrs !== null) return attrs
  }
  if (isJsStringBreakout(input)) return 'js:string-breakout'
  let wholeChecked = false
  for (const q of QUOTED) {
    if (!input.includes(q)) {
      // The whole input is the attribute value in this context: the same check for every quote.
      if (wholeChecked) continue
      wholeChecked = true
    }
    const r = scanHtml(input, q, visitor)
    if (r !== null) return r
  }
  return null
}

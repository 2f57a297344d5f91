/**
 * text/xml, application/xml: parsed with saxes. No DTD processing and no entity expansion of any
 * kind — this is the XXE and "billion laughs" defence; a document that uses a custom entity is a
 * body error. Produces what `XML:/*` (the root element's text content, as ModSecurity's
 * xmlNodeGetContent gives it) and `XML://@*` (every attribute value) read.
 * Input: a byte string (UTF-8 expected); outputs are UTF-8 byte strings.
 */
import { createRequire } from 'node:module'

export interface XmlResult {
  /** Concatenated text of the root element (one value), empty list when there is no root. */
  texts: string[]
  attributes: Array<{ key: string; value: string }>
  /**
   * Each element's own text and each attribute as an argument named by its path of local names:
   * `xml.Envelope.Body.login.user`, `xml.order.@id` (what ARGS reads for an XML body).
   */
  args: Array<{ key: string; value: string }>
  error: string | undefined
}

function toBytes(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s
  return Buffer.from(s, 'utf8').toString('latin1')
}

export function parseXml(bytes: string, opts: { depthLimit: number; attributesLimit: number }): XmlResult {
  const parser = new (saxes().SaxesParser)({ xmlns: false, position: false })
  let text = ''
  let depth = 0
  let sawRoot = false
  let error: string | undefined
  const attributes: Array<{ key: string; value: string }> = []
  const args: Array<{ key: string; value: string }> = []
  const path: string[] = []
  const own: string[] = []
  const arg = (key: string, value: string): void => {
    if (args.length < opts.attributesLimit) args.push({ key: toBytes(key), value: toBytes(value) })
  }
  parser.on('error', (e) => {
    error ??= `XML parsing error: ${e.message}`
  })
  parser.on('doctype', () => {
    // A DOCTYPE is where entities are declared; Palisade never honours them.
    error ??= 'XML parsing error: DOCTYPE is not allowed'
  })
  parser.on('opentag', (tag) => {
    sawRoot = true
    depth++
    if (depth > opts.depthLimit) error ??= `XML nesting deeper than ${opts.depthLimit}`
    for (const [name, value] of Object.entries(tag.attributes)) {
      if (attributes.length >= opts.attributesLimit) {
        error ??= `XML has more than ${opts.attributesLimit} attributes`
        break
      }
      attributes.push({ key: toBytes(name), value: toBytes(String(value)) })
    }
    path.push(localName(tag.name))
    own.push('')
    const where = `xml.${path.join('.')}`
    for (const [name, value] of Object.entries(tag.attributes)) {
      if (!name.startsWith('xmlns')) arg(`${where}.@${localName(name)}`, String(value))
    }
  })
  parser.on('closetag', () => {
    depth--
    const t = own.pop() ?? ''
    if (t.trim() !== '') arg(`xml.${path.join('.')}`, t)
    path.pop()
  })
  parser.on('text', (t) => {
    if (depth > 0) {
      text += t
      own[own.length - 1] += t
    }
  })
  parser.on('cdata', (t) => {
    if (depth > 0) {
      text += t
      own[own.length - 1] += t
    }
  })
  try {
    parser.write(Buffer.from(bytes, 'latin1').toString('utf8')).close()
  } catch (cause) {
    error ??= `XML parsing error: ${cause instanceof Error ? cause.message : String(cause)}`
  }
  if (!sawRoot) error ??= 'XML parsing error: no root element'
  return { texts: sawRoot ? [toBytes(text)] : [], attributes, args, error }
}

/** `soapenv:Body` → `Body`. */
function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1)
}

/** saxes, loaded at the first XML body (most traffic has none). */
function saxes(): typeof import('saxes') {
  return createRequire(import.meta.url)('saxes') as typeof import('saxes')
}

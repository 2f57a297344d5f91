/**
 * An HTML5-style scanner that reports the markup events an injection would create, without
 * building a tree. It follows the parts of the HTML5 tokenizer that decide what a browser
 * executes: tag names end at whitespace, `/` or `>`; attribute names may start with `=`; values are
 * double-, single-, back-quoted (legacy IE) or unquoted; `<!--` comments, `<!` and `<?` bogus
 * comments and end tags are skipped to their end.
 *
 * The scan starts in one of six contexts, because input is pasted into text, between a tag's
 * attributes, or into an attribute value: `data`, `attributes`, or inside an attribute value that is
 * unquoted or opened by `'`, `"`, `` ` ``.
 * It reads the input once; every step advances the position, so it is linear and never backtracks.
 */

export type HtmlContext = 'data' | 'attributes' | 'unquoted' | "'" | '"' | '`'

export interface HtmlVisitor {
  /** A start tag name, lower-cased. Return a reason string to stop the scan. */
  tag(name: string): string | null
  /** An end tag name, lower-cased. */
  endTag(name: string): string | null
  /** An attribute: lower-cased name (empty for the value the context starts in), raw value or `null`. */
  attribute(name: string, value: string | null): string | null
  /** A `<!-- -->` comment, a `<!...>` declaration or a `<?...>` instruction, with its raw text. */
  markup(kind: 'comment' | 'declaration' | 'instruction', text: string): string | null
}

const SPACE = new Uint8Array(256)
for (const c of [0x20, 0x09, 0x0a, 0x0c, 0x0d]) SPACE[c] = 1

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)

function lowerAscii(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : s[i]
  }
  return out
}

/** Lower-cases at most `max` characters: names longer than that are never on a block list. */
function lowerName(s: string, max = 64): string {
  return lowerAscii(s.length > max ? s.slice(0, max) : s)
}

/** Scans `input` from `context`; returns the first reason the visitor gives, or `null`. */
export function scanHtml(input: string, context: HtmlContext, v: HtmlVisitor): string | null {
  const n = input.length
  let i = 0
  let reason: string | null = null

  /** Reads attributes until `>` (returns the index after it) or the end of input. */
  const attributes = (from: number): number => {
    let j = from
    while (j < n) {
      const c = input.charCodeAt(j)
      if (SPACE[c] === 1 || c === 0x2f) {
        j++
        continue
      }
      if (c === 0x3e) return j + 1
      // attribute name: the first character may be `=`
      const start = j
      j++
      while (j < n) {
        const d = input.charCodeAt(j)
        if (SPACE[d] === 1 || d === 0x2f || d === 0x3e || d === 0x3d) break
        j++
      }
      const name = lowerName(input.slice(start, j))
      let k = j
      while (k < n && SPACE[input.charCodeAt(k)] === 1) k++
      if (input.charCodeAt(k) !== 0x3d) {
        reason = v.attribute(name, null)
        if (reason !== null) return n
        j = k
        continue
      }
      k++
      while (k < n && SPACE[input.charCodeAt(k)] === 1) k++
      const q = input.charCodeAt(k)
      let value: string
      if (q === 0x22 || q === 0x27 || q === 0x60) {
        const close = input.indexOf(String.fromCharCode(q), k + 1)
        const end = close < 0 ? n : close
        value = input.slice(k + 1, end)
        j = close < 0 ? n : close + 1
      } else {
        let e = k
        while (e < n && SPACE[input.charCodeAt(e)] !== 1 && input.charCodeAt(e) !== 0x3e) e++
        value = input.slice(k, e)
        j = e
      }
      reason = v.attribute(name, value)
      if (reason !== null) return n
    }
    return n
  }

  if (context === 'attributes') {
    // The input continues a start tag between attributes: `<img src=x <input>`.
    i = attributes(0)
    if (reason !== null) return reason
  } else if (context !== 'data') {
    // The input continues an attribute value: read to the end of that value, then the tag goes on.
    let end: number
    let next: number
    if (context === 'unquoted') {
      end = 0
      while (end < n && SPACE[input.charCodeAt(end)] !== 1 && input.charCodeAt(end) !== 0x3e) end++
      next = end
    } else {
      const close = input.indexOf(context, 0)
      end = close < 0 ? n : close
      next = close < 0 ? n : close + 1
    }
    reason = v.attribute('', input.slice(0, end))
    if (reason !== null) return reason
    i = attributes(next)
    if (reason !== null) return reason
  }

  while (i < n) {
    const lt = input.indexOf('<', i)
    if (lt < 0) break
    i = lt + 1
    const c = input.charCodeAt(i)
    if (isAlpha(c)) {
      let j = i + 1
      while (j < n) {
        const d = input.charCodeAt(j)
        if (SPACE[d] === 1 || d === 0x2f || d === 0x3e) break
        j++
      }
      reason = v.tag(lowerName(input.slice(i, j)))
      if (reason !== null) return reason
      i = attributes(j)
      if (reason !== null) return reason
      continue
    }
    if (c === 0x2f) {
      const start = i + 1
      let j = start
      while (j < n) {
        const d = input.charCodeAt(j)
        if (SPACE[d] === 1 || d === 0x2f || d === 0x3e) break
        j++
      }
      if (j > start && isAlpha(input.charCodeAt(start))) {
        reason = v.endTag(lowerName(input.slice(start, j)))
        if (reason !== null) return reason
      }
      const gt = input.indexOf('>', j)
      i = gt < 0 ? n : gt + 1
      continue
    }
    if (c === 0x21) {
      if (input.startsWith('--', i + 1)) {
        const close = input.indexOf('-->', i + 3)
        const end = close < 0 ? n : close
        reason = v.markup('comment', input.slice(i + 3, end))
        if (reason !== null) return reason
        i = close < 0 ? n : close + 3
        continue
      }
      const gt = input.indexOf('>', i + 1)
      const end = gt < 0 ? n : gt
      reason = v.markup('declaration', input.slice(i + 1, end))
      if (reason !== null) return reason
      i = gt < 0 ? n : gt + 1
      continue
    }
    if (c === 0x3f) {
      const gt = input.indexOf('>', i + 1)
      const end = gt < 0 ? n : gt
      reason = v.markup('instruction', input.slice(i + 1, end))
      if (reason !== null) return reason
      i = gt < 0 ? n : gt + 1
      continue
    }
    // `<` followed by anything else is text
  }
  return null
}

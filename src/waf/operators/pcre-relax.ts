/**
 * Builds a *superset* of a PCRE pattern that RE2 can run: every input the original matches, the
 * relaxed pattern matches too. The @rx JS fallback uses it as a linear-time prefilter, so the
 * backtracking engine only sees inputs RE2 already found plausible. Catastrophic backtracking
 * mostly happens on inputs that end up not matching, and the prefilter turns most of those away.
 *
 * - Lookarounds `(?=` `(?!` `(?<=` `(?<!` are dropped (an assertion only removes matches).
 * - Possessive quantifiers become greedy, atomic groups plain groups (giving back only adds matches).
 * - A backreference `\N` becomes a copy of group N's pattern (what the group matched also matches
 *   its pattern), or `[\s\S]*` when that group is not closed yet.
 */

/** Index of the `)` that closes the group opening at `open`, or -1. */
function closingParen(src: string, open: number): number {
  let depth = 0
  for (let i = open; i < src.length; i++) {
    const c = src[i]
    if (c === '\\') i++
    else if (c === '[') {
      i++
      if (src[i] === '^') i++
      if (src[i] === ']') i++
      while (i < src.length && src[i] !== ']') {
        if (src[i] === '\\') i++
        i++
      }
    } else if (c === '(') depth++
    else if (c === ')' && --depth === 0) return i
  }
  return -1
}

/** Turns capturing groups into non-capturing ones (for a copied group body). */
function uncapture(text: string): string {
  return relax(text).replace(/\((?!\?)/g, '(?:')
}

export function relax(src: string): string {
  let out = ''
  let groups = 0
  const bodies = new Map<number, string>()
  const openCaptures: Array<{ n: number; bodyStart: number } | null> = []
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') {
      const e = src[i + 1]
      if (e !== undefined && e >= '1' && e <= '9') {
        const body = bodies.get(Number(e))
        out += body === undefined ? '[\\s\\S]*' : `(?:${uncapture(body)})`
      } else out += c + (e ?? '')
      i++
      continue
    }
    if (c === '[') {
      let j = i + 1
      if (src[j] === '^') j++
      if (src[j] === ']') j++
      while (j < src.length && src[j] !== ']') {
        if (src[j] === '\\') j++
        j++
      }
      out += src.slice(i, j + 1)
      i = j
      continue
    }
    if (c === '(') {
      if (/^\(\?(?:=|!|<=|<!)/.test(src.slice(i, i + 4))) {
        const end = closingParen(src, i)
        if (end === -1) return src // malformed: let the compiler report it
        out += '(?:)'
        i = end
        continue
      }
      if (src.startsWith('(?>', i)) {
        out += '(?:'
        i += 2
        openCaptures.push(null)
        continue
      }
      const named = /^\(\?P?<[A-Za-z_]\w*>/.exec(src.slice(i, i + 40))
      if (src[i + 1] !== '?' || named !== null)
        openCaptures.push({ n: ++groups, bodyStart: i + (named === null ? 1 : named[0].length) })
      else openCaptures.push(null)
      out += c
      continue
    }
    if (c === ')') {
      const group = openCaptures.pop()
      if (group) bodies.set(group.n, src.slice(group.bodyStart, i))
      out += c
      continue
    }
    const quantifier = c === '*' || c === '+' || c === '?' || (c === '}' && /\{\d+(?:,\d*)?$/.test(out))
    if (quantifier && src[i + 1] === '+') {
      out += c
      i++ // possessive → greedy
      continue
    }
    out += c
  }
  return out
}

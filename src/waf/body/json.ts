/**
 * application/json, flattened the way ModSecurity v3 names JSON arguments: keys are joined with `.`
 * under the prefix `json` (`{"a":{"b":1}}` → `json.a.b`), array elements are `<key>.array_<n>`
 * (`{"a":[1,2]}` → `json.a.array_0`, `json.a.array_1`), a top-level array is `json.array_0`,
 * `true`/`false` become `true`/`false`, `null` becomes an empty value.
 * Input: a byte string that should be UTF-8; strings are returned as UTF-8 byte strings.
 * Limits: nesting depth and argument count (a deeply nested body is a parser DoS, not an app input).
 */
import type { Pair } from './urlencoded.js'

export interface JsonResult {
  pairs: Pair[]
  error: string | undefined
}

function toBytes(s: string): string {
  // Re-encode JSON.parse's UTF-16 result as UTF-8 bytes, so operators see what ModSecurity sees.
  if (/^[\x00-\x7f]*$/.test(s)) return s
  return Buffer.from(s, 'utf8').toString('latin1')
}

/**
 * `lines`: newline-delimited JSON (application/x-ndjson, application/jsonl: bulk and log APIs), one document a
 * line, named as the elements of one array (`json.array_<line>.…`) so that exclusions read the same way.
 */
export function parseJson(
  bytes: string,
  opts: { depthLimit: number; argsLimit: number; lines?: boolean },
): JsonResult {
  let doc: unknown
  try {
    const text = Buffer.from(bytes, 'latin1').toString('utf8')
    doc = opts.lines === true ? parseLines(text) : JSON.parse(text)
  } catch (cause) {
    return {
      pairs: [],
      error: `JSON parsing error: ${cause instanceof Error ? cause.message : String(cause)}`,
    }
  }
  const pairs: Pair[] = []
  let error: string | undefined
  const walk = (value: unknown, path: string, depth: number): void => {
    if (error !== undefined) return
    if (depth > opts.depthLimit) {
      error = `JSON nesting deeper than ${opts.depthLimit}`
      return
    }
    if (pairs.length >= opts.argsLimit) {
      error = `JSON has more than ${opts.argsLimit} values`
      return
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}.array_${i}`, depth + 1))
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${toBytes(k)}`, depth + 1)
    } else {
      const text =
        typeof value === 'string'
          ? toBytes(value)
          : typeof value === 'number' || typeof value === 'boolean'
            ? String(value)
            : ''
      pairs.push({ key: path, value: text })
    }
  }
  walk(doc, 'json', 0)
  return { pairs, error }
}

function parseLines(text: string): unknown[] {
  const docs: unknown[] = []
  for (const line of text.split('\n')) if (line.trim() !== '') docs.push(JSON.parse(line))
  return docs
}

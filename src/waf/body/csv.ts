/**
 * text/csv (RFC 4180: commas, double-quoted fields with "" for a quote, CRLF or LF rows), flattened as
 * `csv.<row>.<column>` so that every cell reaches the rules as its own argument (and exclusions can name a
 * column). No processor of ModSecurity's reads CSV: there the type is refused or the body left unread.
 * Input: a byte string; cells are returned as byte strings. Limit: the argument count.
 */
import type { Pair } from './urlencoded.js'

export interface CsvResult {
  pairs: Pair[]
  error: string | undefined
}

export function parseCsv(bytes: string, opts: { argsLimit: number }): CsvResult {
  const pairs: Pair[] = []
  let row = 0
  let col = 0
  let cell = ''
  let quoted = false
  let i = 0
  const n = bytes.length
  const endCell = (): boolean => {
    pairs.push({ key: `csv.${row}.${col}`, value: cell })
    cell = ''
    col++
    return pairs.length < opts.argsLimit
  }
  while (i < n) {
    const c = bytes[i] as string
    if (quoted) {
      if (c === '"') {
        if (bytes[i + 1] === '"') {
          cell += '"'
          i += 2
          continue
        }
        quoted = false
      } else cell += c
      i++
      continue
    }
    if (c === '"' && cell === '') quoted = true
    else if (c === ',') {
      if (!endCell()) return { pairs, error: `CSV has more than ${opts.argsLimit} values` }
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && bytes[i + 1] === '\n') i++
      if (!endCell()) return { pairs, error: `CSV has more than ${opts.argsLimit} values` }
      row++
      col = 0
    } else cell += c
    i++
  }
  if (quoted) return { pairs, error: 'CSV parsing error: a quoted field is not closed' }
  // A last row without a line break.
  if (cell !== '' || col > 0) endCell()
  return { pairs, error: undefined }
}

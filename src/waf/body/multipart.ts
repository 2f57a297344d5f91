/**
 * multipart/form-data with ModSecurity's strictness flags, which CRS (and Palisade's set-up rule
 * MULTIPART_STRICT_ERROR) relies on to refuse bodies that different parsers would read differently
 * (the "multipart evasion" family of bypasses).
 *
 * Input: the Content-Type header value and the body, both byte strings. Never throws.
 */
import type { Pair } from './urlencoded.js'

export interface MultipartPart {
  name: string
  filename: string | undefined
  /** Header lines as `Name: value` (what MULTIPART_PART_HEADERS reads). */
  headers: string[]
  value: string
}

export interface MultipartResult {
  args: Pair[]
  /** File parts: key = field name, value = file name. */
  files: Pair[]
  fileSizes: Pair[]
  parts: MultipartPart[]
  flags: Map<string, string>
  /** Set when the body cannot be processed (REQBODY_ERROR=1). */
  error: string | undefined
}

const BOUNDARY_CHARS = /^[0-9A-Za-z'()+_,\-./:=? ]+$/

function flag(flags: Map<string, string>, name: string): void {
  flags.set(name, '1')
}

/** Extracts the boundary from the Content-Type, flagging quoting and whitespace as ModSecurity does. */
export function extractBoundary(
  contentType: string,
  flags: Map<string, string>,
): { boundary: string } | { error: string } {
  const params = [...contentType.matchAll(/(?:^|;)[ \t]*boundary(?=[ \t]*=)/gi)]
  if (params.length === 0) return { error: 'Multipart: Boundary not found in C-T' }
  if (params.length > 1) return { error: 'Multipart: Multiple boundary parameters in C-T' }
  const m = params[0]!
  let i = m.index + m[0].length
  if (contentType[i] === ' ' || contentType[i] === '\t') {
    flag(flags, 'MULTIPART_BOUNDARY_WHITESPACE')
    while (contentType[i] === ' ' || contentType[i] === '\t') i++
  }
  if (contentType[i] !== '=') return { error: 'Multipart: Invalid boundary in C-T (malformed)' }
  i++
  if (contentType[i] === ' ' || contentType[i] === '\t') {
    flag(flags, 'MULTIPART_BOUNDARY_WHITESPACE')
    while (contentType[i] === ' ' || contentType[i] === '\t') i++
  }
  let boundary: string
  if (contentType[i] === '"') {
    flag(flags, 'MULTIPART_BOUNDARY_QUOTED')
    const end = contentType.indexOf('"', i + 1)
    if (end < 0) return { error: 'Multipart: Invalid boundary in C-T (quote)' }
    boundary = contentType.slice(i + 1, end)
  } else {
    const end = contentType.slice(i).search(/[;,]/)
    boundary = (end < 0 ? contentType.slice(i) : contentType.slice(i, i + end)).replace(/[ \t]+$/, (m) => {
      flag(flags, 'MULTIPART_BOUNDARY_WHITESPACE')
      return m.length > 0 ? '' : m
    })
  }
  if (boundary === '' || !BOUNDARY_CHARS.test(boundary) || boundary.endsWith(' ')) {
    return { error: 'Multipart: Invalid boundary in C-T (characters)' }
  }
  return { boundary }
}

interface Disposition {
  name: string | undefined
  filename: string | undefined
  error: string | undefined
}

function parseDisposition(value: string, flags: Map<string, string>): Disposition {
  const d: Disposition = { name: undefined, filename: undefined, error: undefined }
  if (!/^form-data/i.test(value)) return { ...d, error: 'Multipart: Invalid Content-Disposition header' }
  let i = 9
  const n = value.length
  const ws = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++
  }
  while (i < n) {
    ws()
    if (i >= n) break
    if (value[i] !== ';') {
      flag(flags, 'MULTIPART_MISSING_SEMICOLON')
    } else i++
    ws()
    const start = i
    while (i < n && value[i] !== '=' && value[i] !== ' ' && value[i] !== '\t' && value[i] !== ';') i++
    const param = value.slice(start, i).toLowerCase()
    ws()
    if (value[i] !== '=') return { ...d, error: 'Multipart: Invalid Content-Disposition header (no "=")' }
    i++
    ws()
    let v = ''
    if (value[i] === '"') {
      i++
      while (i < n && value[i] !== '"') {
        if (value[i] === '\\' && (value[i + 1] === '"' || value[i + 1] === '\\')) {
          flag(flags, 'MULTIPART_INVALID_QUOTING')
          i++
        }
        v += value[i]
        i++
      }
      if (i >= n) return { ...d, error: 'Multipart: Invalid Content-Disposition header (quote)' }
      i++
    } else {
      if (value[i] === "'") flag(flags, 'MULTIPART_INVALID_QUOTING')
      const s = i
      while (i < n && value[i] !== ';' && value[i] !== ' ' && value[i] !== '\t') i++
      v = value.slice(s, i)
      if (v.includes("'") || v.includes('"') || v.includes('\\')) flag(flags, 'MULTIPART_INVALID_QUOTING')
    }
    if (param === 'name') {
      if (d.name !== undefined) return { ...d, error: 'Multipart: Duplicate Content-Disposition name' }
      d.name = v
    } else if (param === 'filename' || param === 'filename*') {
      if (d.filename !== undefined)
        return { ...d, error: 'Multipart: Duplicate Content-Disposition filename' }
      d.filename = v
    } else {
      return { ...d, error: `Multipart: Invalid Content-Disposition header (unknown parameter)` }
    }
  }
  if (d.name === undefined) return { ...d, error: 'Multipart: Content-Disposition header without name' }
  return d
}

export function parseMultipart(
  contentType: string,
  body: string,
  opts: { argsLimit: number; fileLimit: number },
): MultipartResult {
  const result: MultipartResult = {
    args: [],
    files: [],
    fileSizes: [],
    parts: [],
    flags: new Map(),
    error: undefined,
  }
  const fail = (msg: string): MultipartResult => {
    result.error ??= msg
    return result
  }
  const b = extractBoundary(contentType, result.flags)
  if ('error' in b) return fail(b.error)
  const delimiter = '--' + b.boundary
  let pos = 0
  let sawCrlf = false
  let sawLf = false
  let state: 'preamble' | 'headers' | 'data' | 'done' = 'preamble'
  let headers: string[] = []
  let data: string[] = []
  let fileCount = 0

  const finishPart = (): void => {
    if (state !== 'data') {
      if (state === 'headers') {
        flag(result.flags, 'MULTIPART_INVALID_PART')
        fail('Multipart: part headers not terminated')
      }
      return
    }
    // The CRLF before a delimiter belongs to the delimiter.
    let value = data.join('')
    if (value.endsWith('\r\n')) value = value.slice(0, -2)
    else if (value.endsWith('\n')) value = value.slice(0, -1)
    let disposition: string | undefined
    const lines: string[] = []
    for (const h of headers) {
      const colon = h.indexOf(':')
      const name = h.slice(0, colon).trim()
      const v = h.slice(colon + 1).trim()
      lines.push(`${name}: ${v}`)
      if (name.toLowerCase() === 'content-disposition') {
        if (disposition !== undefined) {
          flag(result.flags, 'MULTIPART_INVALID_PART')
          fail('Multipart: Duplicate Content-Disposition header')
        }
        disposition = v
      }
    }
    if (disposition === undefined) {
      flag(result.flags, 'MULTIPART_INVALID_PART')
      fail('Multipart: Part missing Content-Disposition header')
      return
    }
    const d = parseDisposition(disposition, result.flags)
    if (d.error !== undefined) {
      flag(result.flags, 'MULTIPART_INVALID_PART')
      fail(d.error)
    }
    const name = d.name ?? ''
    result.parts.push({ name, filename: d.filename, headers: lines, value })
    if (d.filename !== undefined) {
      fileCount++
      if (fileCount > opts.fileLimit) {
        flag(result.flags, 'MULTIPART_FILE_LIMIT_EXCEEDED')
        return
      }
      result.files.push({ key: name, value: d.filename })
      result.fileSizes.push({ key: name, value: String(value.length) })
    } else if (result.args.length < opts.argsLimit) {
      result.args.push({ key: name, value })
    } else fail('Multipart: too many arguments')
  }

  while (pos < body.length) {
    let nl = body.indexOf('\n', pos)
    const last = nl < 0
    if (last) nl = body.length - 1
    const rawLine = body.slice(pos, nl + 1)
    pos = nl + 1
    let line = rawLine
    let lfOnly: boolean | undefined
    if (!last || rawLine.endsWith('\n')) {
      lfOnly = !rawLine.endsWith('\r\n')
      line = rawLine.slice(0, lfOnly ? -1 : -2)
    }
    // Like ModSecurity, only boundary and part-header lines count towards MULTIPART_LF_LINE and
    // MULTIPART_CRLF_LF_LINES: a file's own content may use any line endings (text files from Unix).
    const structural = state === 'headers' || line.startsWith(delimiter)
    if (structural && lfOnly !== undefined) {
      if (lfOnly) sawLf = true
      else sawCrlf = true
    }
    if (state === 'done') {
      if (rawLine.trim() !== '') flag(result.flags, 'MULTIPART_DATA_AFTER')
      continue
    }
    if (line.startsWith(delimiter)) {
      const rest = line.slice(delimiter.length)
      if (rest === '--' || rest.startsWith('--')) {
        if (rest.slice(2).trim() !== '') flag(result.flags, 'MULTIPART_DATA_AFTER')
        if (state === 'preamble') return fail('Multipart: final boundary before any part')
        finishPart()
        state = 'done'
        continue
      }
      if (rest.trim() === '') {
        if (rest !== '') flag(result.flags, 'MULTIPART_BOUNDARY_WHITESPACE')
        if (state !== 'preamble') finishPart()
        state = 'headers'
        headers = []
        data = []
        continue
      }
      // Something that starts like our boundary but is not one.
      flag(result.flags, 'MULTIPART_UNMATCHED_BOUNDARY')
    } else if (line.startsWith('--') && state === 'data' && line.includes(b.boundary)) {
      flag(result.flags, 'MULTIPART_UNMATCHED_BOUNDARY')
    }
    if (state === 'preamble') {
      if (rawLine.trim() !== '') flag(result.flags, 'MULTIPART_DATA_BEFORE')
      continue
    }
    if (state === 'headers') {
      if (line === '') {
        state = 'data'
        continue
      }
      if (line[0] === ' ' || line[0] === '\t') {
        flag(result.flags, 'MULTIPART_HEADER_FOLDING')
        if (headers.length === 0) {
          flag(result.flags, 'MULTIPART_INVALID_HEADER_FOLDING')
          return fail('Multipart: Invalid part header (folding error)')
        }
        headers[headers.length - 1] += ' ' + line.trim()
        continue
      }
      const colon = line.indexOf(':')
      if (colon <= 0) {
        flag(result.flags, 'MULTIPART_INVALID_PART')
        return fail('Multipart: Invalid part header (colon missing)')
      }
      if (headers.length >= 100) return fail('Multipart: too many part headers')
      headers.push(line)
      continue
    }
    data.push(rawLine)
  }
  if (state !== 'done') {
    flag(result.flags, 'MULTIPART_UNMATCHED_BOUNDARY')
    return fail('Multipart: Final boundary missing')
  }
  if (sawLf) flag(result.flags, 'MULTIPART_LF_LINE')
  if (sawLf && sawCrlf) flag(result.flags, 'MULTIPART_CRLF_LF_LINES')
  return result
}

/** MULTIPART_STRICT_ERROR: any of the strictness flags, or a processing error. */
export function strictError(result: MultipartResult): boolean {
  if (result.error !== undefined) return true
  for (const name of [
    'MULTIPART_BOUNDARY_QUOTED',
    'MULTIPART_BOUNDARY_WHITESPACE',
    'MULTIPART_DATA_BEFORE',
    'MULTIPART_DATA_AFTER',
    'MULTIPART_HEADER_FOLDING',
    'MULTIPART_LF_LINE',
    'MULTIPART_MISSING_SEMICOLON',
    'MULTIPART_INVALID_QUOTING',
    'MULTIPART_INVALID_PART',
    'MULTIPART_INVALID_HEADER_FOLDING',
    'MULTIPART_FILE_LIMIT_EXCEEDED',
  ]) {
    if (result.flags.get(name) === '1') return true
  }
  return false
}

import type { Command } from 'commander'

export interface Io {
  out(line: string): void
  err(line: string): void
}

export const stdio: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
}

export function wantsJson(cmd: Command): boolean {
  return cmd.optsWithGlobals<{ json?: boolean }>().json === true
}

type Cell = string | number | boolean | null | undefined

/** Prints rows as an aligned table (humans) or the raw value as JSON (`--json`, scripts). */
export function print(
  cmd: Command,
  value: unknown,
  columns?: ReadonlyArray<[string, (row: never) => Cell]>,
  io: Io = stdio,
): void {
  if (wantsJson(cmd) || !columns) {
    io.out(JSON.stringify(value, null, 2))
    return
  }
  const rows = (Array.isArray(value) ? value : ((value as { items?: unknown[] }).items ?? [value])) as never[]
  const header = columns.map(([h]) => h)
  const body = rows.map((r) => columns.map(([, get]) => format(get(r))))
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  io.out(line(header.map((h) => h.toUpperCase())))
  for (const b of body) io.out(line(b))
  if (rows.length === 0) io.out('(none)')
}

function format(c: Cell): string {
  if (c === null || c === undefined) return '-'
  if (typeof c === 'boolean') return c ? 'yes' : 'no'
  // Control characters from the server never reach the terminal raw (escape-sequence injection).
  return String(c).replace(/[\x00-\x1f\x7f]/g, '?')
}

/** Prints a one-line success message (suppressed with --json, which prints the object instead). */
export function done(cmd: Command, message: string, value?: unknown, io: Io = stdio): void {
  if (wantsJson(cmd)) io.out(JSON.stringify(value ?? { ok: true }, null, 2))
  else io.out(message)
}

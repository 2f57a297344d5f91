/** Raised while loading rules: names where the problem is. The engine itself never throws on traffic. */
export class WafConfigError extends Error {
  readonly code: string
  readonly file: string | undefined
  readonly line: number | undefined
  readonly column: number | undefined
  constructor(
    code: string,
    message: string,
    where: { file?: string; line?: number; column?: number } = {},
    options?: { cause?: unknown },
  ) {
    const at = where.file ? `${where.file}:${where.line ?? 0}:${where.column ?? 0}: ` : ''
    super(`${at}${message}`, options)
    this.name = 'WafConfigError'
    this.code = code
    this.file = where.file
    this.line = where.line
    this.column = where.column
  }
}

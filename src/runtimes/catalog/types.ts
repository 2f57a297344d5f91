/** A runtime's major line (for Node: 20, 22…), with its support dates (ISO dates `YYYY-MM-DD`, UTC). */
export interface MajorInfo {
  readonly major: number
  readonly releasedAt: string
  /** When the line entered long-term support; null for lines that never do. */
  readonly ltsFrom: string | null
  readonly eolAt: string
  /** True when the EOL date was computed from the project's release rules, not read from its schedule. */
  readonly eolEstimated?: boolean
}

/** One installable release. */
export interface VersionInfo {
  readonly version: string
  /** When the version became available to the platform (ISO instant). See docs/runtimes.md for the source. */
  readonly releasedAt: string
  /** Whether this release fixes a security vulnerability (the 30-day rule applies). */
  readonly security: boolean
  /** Advisory references (CVE ids or announcement URLs) for security releases. */
  readonly advisories: readonly string[]
  /** Subresource-integrity string of the package tarball (`sha512-…`), when known. */
  readonly integrity?: string
}

export interface RuntimeEntry {
  readonly name: string
  readonly majors: readonly MajorInfo[]
  /** Ascending by version. */
  readonly versions: readonly VersionInfo[]
}

/** A dated snapshot of every runtime the platform manages. */
export interface RuntimeCatalog {
  readonly generatedAt: string
  readonly sources: readonly string[]
  readonly runtimes: Readonly<Record<string, RuntimeEntry>>
}

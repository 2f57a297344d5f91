/** One package `apt` would upgrade. */
export interface PendingUpdate {
  readonly name: string
  /** Suites the new version comes from (`bookworm-security`, `stable-updates`…). */
  readonly suites: readonly string[]
  readonly version: string
  readonly from: string | null
  /** From a security suite: Debian's way of saying the update fixes a vulnerability. */
  readonly security: boolean
}

const LINE = /^([a-z0-9][a-z0-9+.-]*)\/(\S+)\s+(\S+)\s+\S+(?:\s+\[upgradable from: ([^\]]+)\])?\s*$/

/**
 * Parses `apt list --upgradable` output (`name/suite[,suite] version arch [upgradable from: old]`).
 * The "Listing..." header, warnings and anything else that is not a package line are ignored.
 */
export function parseAptUpgradable(output: string): PendingUpdate[] {
  const out: PendingUpdate[] = []
  for (const raw of output.split('\n')) {
    const m = LINE.exec(raw.trim())
    if (!m) continue
    const suites = m[2]!.split(',')
    out.push({
      name: m[1]!,
      suites,
      version: m[3]!,
      from: m[4] ?? null,
      security: suites.some((s) => /-security$/.test(s)),
    })
  }
  return out
}

import type { MajorInfo } from './types.js'

/**
 * Node.js release lines from the Node.js release schedule (github.com/nodejs/Release).
 * Even majors become LTS about six months after release and reach end of life 30 months after it;
 * odd majors are never LTS and reach end of life about 8 months after release.
 */
export const NODE_SCHEDULE: readonly MajorInfo[] = [
  { major: 16, releasedAt: '2021-04-20', ltsFrom: '2021-10-26', eolAt: '2023-09-11' },
  { major: 17, releasedAt: '2021-10-19', ltsFrom: null, eolAt: '2022-06-01' },
  { major: 18, releasedAt: '2022-04-19', ltsFrom: '2022-10-25', eolAt: '2025-04-30' },
  { major: 19, releasedAt: '2022-10-18', ltsFrom: null, eolAt: '2023-06-01' },
  { major: 20, releasedAt: '2023-04-18', ltsFrom: '2023-10-24', eolAt: '2026-04-30' },
  { major: 21, releasedAt: '2023-10-17', ltsFrom: null, eolAt: '2024-06-01' },
  { major: 22, releasedAt: '2024-04-24', ltsFrom: '2024-10-29', eolAt: '2027-04-30' },
  { major: 23, releasedAt: '2024-10-16', ltsFrom: null, eolAt: '2025-06-01' },
  { major: 24, releasedAt: '2025-05-06', ltsFrom: '2025-10-28', eolAt: '2028-04-30' },
  { major: 25, releasedAt: '2025-10-15', ltsFrom: null, eolAt: '2026-06-01' },
]

/** The schedule's rules applied to a major it does not list yet (marked `eolEstimated`). */
export function estimateNodeMajor(major: number, releasedAt: string): MajorInfo {
  const year = Number(releasedAt.slice(0, 4))
  if (major % 2 === 0) {
    const lts = new Date(Date.UTC(year, 9, 28)).toISOString().slice(0, 10)
    return { major, releasedAt, ltsFrom: lts, eolAt: `${year + 3}-04-30`, eolEstimated: true }
  }
  return { major, releasedAt, ltsFrom: null, eolAt: `${year + 1}-06-01`, eolEstimated: true }
}

/**
 * Node.js security releases, from the project's announcements (nodejs.org/en/blog/vulnerability).
 * The npm registry does not say which versions fix vulnerabilities, so a refresh keeps this table
 * and the previous snapshot's flags; a release missing here is treated as a plain patch (see docs/runtimes.md).
 */
export interface SecurityRelease {
  /** Day the fixed versions were published (UTC). */
  readonly date: string
  readonly versions: readonly string[]
  readonly advisories: readonly string[]
}

const blog = (slug: string): string => `https://nodejs.org/en/blog/vulnerability/${slug}`

export const NODE_SECURITY_RELEASES: readonly SecurityRelease[] = [
  {
    date: '2023-06-20',
    versions: ['16.20.1', '18.16.1', '20.3.1'],
    advisories: [blog('june-2023-security-releases')],
  },
  {
    date: '2023-08-09',
    versions: ['16.20.2', '18.17.1', '20.5.1'],
    advisories: [blog('august-2023-security-releases')],
  },
  {
    date: '2023-10-13',
    versions: ['18.18.2', '20.8.1'],
    advisories: ['CVE-2023-44487', blog('october-2023-security-releases')],
  },
  {
    date: '2024-02-14',
    versions: ['18.19.1', '20.11.1', '21.6.2'],
    advisories: [blog('february-2024-security-releases')],
  },
  {
    date: '2024-04-03',
    versions: ['18.20.1', '20.12.1', '21.7.2'],
    advisories: [blog('april-2024-security-releases')],
  },
  {
    date: '2024-04-10',
    versions: ['18.20.2', '20.12.2', '21.7.3'],
    advisories: ['CVE-2024-27980', blog('april-2024-security-releases-2')],
  },
  {
    date: '2024-07-08',
    versions: ['18.20.4', '20.15.1', '22.4.1'],
    advisories: [blog('july-2024-security-releases')],
  },
  {
    date: '2025-01-21',
    versions: ['18.20.6', '20.18.2', '22.13.1', '23.6.1'],
    advisories: [blog('january-2025-security-releases')],
  },
  {
    date: '2025-05-14',
    versions: ['20.19.2', '22.15.1', '23.11.1', '24.0.2'],
    advisories: [blog('may-2025-security-releases')],
  },
  {
    date: '2025-07-15',
    versions: ['20.19.4', '22.17.1', '24.4.1'],
    advisories: [blog('july-2025-security-releases')],
  },
  {
    date: '2026-01-13',
    versions: ['20.20.0', '22.22.0', '24.13.0', '25.3.0'],
    advisories: [blog('december-2025-security-releases')],
  },
]

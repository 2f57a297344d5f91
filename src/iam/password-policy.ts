import { createRequire } from 'node:module'
import type { ZxcvbnFactory } from '@zxcvbn-ts/core'
import type * as LanguageCommon from '@zxcvbn-ts/language-common'
import type * as LanguageEn from '@zxcvbn-ts/language-en'

export const PASSWORD_MIN_LENGTH = 12
/** Upper bound keeps argon2 input and zxcvbn's work bounded (DoS by huge passwords). */
export const PASSWORD_MAX_LENGTH = 256

let factory: ZxcvbnFactory | undefined
/** Built on first use: loading the dictionaries costs ~100 ms that start-up need not pay. */
function estimator(): ZxcvbnFactory {
  if (factory) return factory
  // Required here, not imported at the top: the modules themselves cost ~130 ms of every start-up.
  const load = createRequire(import.meta.url)
  const { ZxcvbnFactory: Factory } = load('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core')
  const common = load('@zxcvbn-ts/language-common') as typeof LanguageCommon
  const en = load('@zxcvbn-ts/language-en') as typeof LanguageEn
  factory = new Factory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  })
  return factory
}

/**
 * Published example passwords that the bundled list (the most common passwords in breach corpora) misses but
 * every cracking dictionary tries first: a password printed in a famous comic or a tutorial is breached by
 * definition (it is in Have I Been Pwned hundreds of times).
 */
const PUBLISHED_PASSWORDS: ReadonlySet<string> = new Set([
  'correcthorsebatterystaple',
  'tr0ub4dor&3',
  'tr0ub4dor3',
  'troubadour',
  'thequickbrownfoxjumpsoverthelazydog',
  'lorem ipsum dolor sit amet',
  'loremipsumdolorsitamet',
])

let breachedList: { test(password: string): boolean } | undefined
/**
 * Whether a password (as typed, lower-cased, or without spaces and separators) is in the bundled list of
 * breached passwords (Mozilla's `fxa-common-password-list`, offline: the top of the breach corpora that
 * Firefox Accounts refuses) or is a published example password.
 */
export function isBreachedPassword(password: string): boolean {
  // Loaded on first use, like zxcvbn's dictionaries: start-up does not pay for it.
  breachedList ??= createRequire(import.meta.url)('fxa-common-password-list') as { test(p: string): boolean }
  const lower = password.toLowerCase()
  const squeezed = lower.replace(/[\s._-]+/g, '')
  return [password, lower, squeezed].some((p) => PUBLISHED_PASSWORDS.has(p) || breachedList!.test(p))
}

/** Returns why a password is refused, or null when it is acceptable (ASVS 6.2, NIST SP 800-63B 5.1.1.2). */
export function passwordProblem(password: string, userInputs: readonly string[] = []): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`
  if (password.length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`
  if (isBreachedPassword(password)) return 'is in a list of breached passwords: choose another'
  const result = estimator().check(password, [...userInputs])
  if (result.score < 3) {
    const hint = result.feedback.warning || result.feedback.suggestions[0] || 'it is too easy to guess'
    return `is too weak: ${hint}`
  }
  return null
}

/**
 * Crash injection for the crash-safety suite (test/crash/): `PALISADE_TEST_CRASH_AT=<point>[,<point>…]` makes
 * `palisade serve` kill itself with SIGKILL when it reaches a named point. Honoured only together with
 * `PALISADE_TEST_HOOKS=1`, a variable no installation sets: a stray `PALISADE_TEST_CRASH_AT` alone does nothing.
 */
export function crashPointsFromEnv(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  if (env['PALISADE_TEST_HOOKS'] !== '1') return []
  return (env['PALISADE_TEST_CRASH_AT'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => /^[a-z0-9.:-]{1,80}$/.test(p))
}

/**
 * Named points where the crash-safety suite kills the control plane (`PALISADE_TEST_CRASH_AT`, read in
 * config/crash-points.ts). Nothing is armed unless `serve` arms it; an unarmed point costs one Set lookup.
 */
const armed = new Set<string>()
let beforeCrash: (() => void) | null = null

/** Runs right before a crash point kills this process (the supervised control plane takes `serve` with it). */
export function onCrashPoint(hook: () => void): void {
  beforeCrash = hook
}

/** Arms the named points (`serve`, only with PALISADE_TEST_HOOKS=1). */
export function armCrashPoints(points: readonly string[]): void {
  for (const p of points) armed.add(p)
}

/** Kills this process with SIGKILL (no cleanup, no flush: a power cut) if `name` is armed. */
export function crashPoint(name: string): void {
  if (armed.size === 0 || !armed.has(name)) return
  process.stderr.write(`[palisade] crash point ${name}: SIGKILL\n`)
  beforeCrash?.()
  process.kill(process.pid, 'SIGKILL')
}

/** The points armed now (logged by `serve` so that a crash in a test is never a surprise). */
export function armedCrashPoints(): readonly string[] {
  return [...armed]
}

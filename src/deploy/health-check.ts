import { request } from 'node:http'
import type { Upstream } from './drivers/driver.js'

/** One GET; true on 2xx/3xx. Never throws. */
export function probe(upstream: Upstream, path: string, host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const target =
      'socketPath' in upstream
        ? { socketPath: upstream.socketPath }
        : { host: upstream.host, port: upstream.port }
    const req = request(
      {
        ...target,
        path,
        method: 'GET',
        headers: { host, 'user-agent': 'palisade-health-check' },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        res.resume()
        const s = res.statusCode ?? 0
        resolve(s >= 200 && s < 400)
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

export type HealthResult = { ok: true; ms: number } | { ok: false; reason: string }

/**
 * Polls until the app answers 2xx/3xx on `path`, the process exits, or `timeoutMs` passes.
 * Polling starts fast (25 ms) and slows to 250 ms: most apps are up within a few hundred ms.
 */
export async function waitHealthy(input: {
  upstream: Upstream
  path: string
  host: string
  timeoutMs: number
  exited: Promise<{ code: number | null; signal: string | null }>
}): Promise<HealthResult> {
  const started = Date.now()
  let exit: { code: number | null; signal: string | null } | null = null
  void input.exited.then((e) => (exit = e))
  let delay = 25
  while (Date.now() - started < input.timeoutMs) {
    if (exit) {
      const e = exit as { code: number | null; signal: string | null }
      return {
        ok: false,
        reason: `the process exited (code ${e.code ?? '-'}, signal ${e.signal ?? '-'}) before passing its health check`,
      }
    }
    const left = input.timeoutMs - (Date.now() - started)
    if (await probe(input.upstream, input.path, input.host, Math.max(50, Math.min(2_000, left))))
      return { ok: true, ms: Date.now() - started }
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(250, delay * 2)
  }
  return {
    ok: false,
    reason: `health check GET ${input.path} got no 2xx/3xx answer within ${Math.round(input.timeoutMs / 1000)} s`,
  }
}

import { request } from 'node:http'
import type { Upstream } from './drivers/driver.js'

/** One GET; true on 2xx/3xx. Never throws. */
export async function probe(
  upstream: Upstream,
  path: string,
  host: string,
  timeoutMs: number,
): Promise<boolean> {
  return (await probeAnswer(upstream, path, host, timeoutMs)).ok
}

/** One GET, with what came back in words ("HTTP 404", "connection refused", "no answer within 2 s"). */
export function probeAnswer(
  upstream: Upstream,
  path: string,
  host: string,
  timeoutMs: number,
): Promise<{ ok: boolean; answer: string }> {
  return new Promise((resolve) => {
    const target =
      'socketPath' in upstream
        ? { socketPath: upstream.socketPath }
        : { host: upstream.host, port: upstream.port }
    let timedOut = false
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
        resolve({ ok: s >= 200 && s < 400, answer: `HTTP ${s}` })
      },
    )
    req.on('timeout', () => {
      timedOut = true
      req.destroy()
    })
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        ok: false,
        answer: timedOut
          ? `no answer within ${timeoutMs} ms`
          : e.code === 'ECONNREFUSED' || e.code === 'ENOENT'
            ? 'connection refused (nothing listening on PORT yet)'
            : `connection failed (${e.code ?? e.message})`,
      }),
    )
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
  /** Called about every 5 s while waiting, with the last answer (so a long wait is not silent). */
  onWaiting?: (elapsedMs: number, lastAnswer: string) => void
}): Promise<HealthResult> {
  const started = Date.now()
  let exit: { code: number | null; signal: string | null } | null = null
  void input.exited.then((e) => (exit = e))
  let delay = 25
  let last = 'no answer yet'
  let told = started
  while (Date.now() - started < input.timeoutMs) {
    if (exit) {
      const e = exit as { code: number | null; signal: string | null }
      return {
        ok: false,
        reason: `the process exited (code ${e.code ?? '-'}, signal ${e.signal ?? '-'}) before passing its health check`,
      }
    }
    const left = input.timeoutMs - (Date.now() - started)
    const r = await probeAnswer(input.upstream, input.path, input.host, Math.max(50, Math.min(2_000, left)))
    if (r.ok) return { ok: true, ms: Date.now() - started }
    last = r.answer
    if (Date.now() - told >= 5_000) {
      told = Date.now()
      input.onWaiting?.(told - started, last)
    }
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(250, delay * 2)
  }
  return {
    ok: false,
    reason: `health check GET ${input.path} got no 2xx/3xx answer within ${Math.round(input.timeoutMs / 1000)} s (last answer: ${last}); the app must answer on the port in PORT`,
  }
}

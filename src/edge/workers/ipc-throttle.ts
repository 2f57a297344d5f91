import type { Throttle, ThrottleDecision } from '../types.js'
import type { ThrottleAnswer, ThrottleTake, WorkerMessage } from './protocol.js'

interface Waiting {
  readonly takes: ThrottleTake[]
  readonly resolvers: ((d: ThrottleDecision) => void)[]
}

/** A question the supervisor did not answer within this is decided locally (the supervisor is gone). */
const ANSWER_TIMEOUT_MS = 5_000

/**
 * A `Throttle` whose buckets live in the supervisor, so that a limit of L per client holds whatever worker
 * each request reaches. Questions asked in one turn of the event loop travel as one message (under load the
 * round trip is shared by every request of the turn).
 *
 * `failOpen` decides when the supervisor does not answer: the request throttle lets traffic pass (an
 * availability limit), the Basic-auth guess limit refuses the slow check (a security limit).
 */
export function createIpcThrottle(
  kind: 'edge' | 'login',
  send: (message: WorkerMessage) => void,
  failOpen: boolean,
): Throttle & { answer(id: number, answers: readonly ThrottleAnswer[]): void } {
  const inFlight = new Map<number, Waiting>()
  let next = 1
  let batch: Waiting | null = null
  const fallback: ThrottleDecision = Object.freeze({ allowed: failOpen, retryAfterSeconds: failOpen ? 0 : 5 })

  const flush = (): void => {
    const current = batch
    batch = null
    if (!current) return
    const id = next++
    inFlight.set(id, current)
    const timer = setTimeout(() => {
      if (!inFlight.delete(id)) return
      for (const r of current.resolvers) r(fallback)
    }, ANSWER_TIMEOUT_MS)
    timer.unref()
    try {
      send({ t: 'throttle', id, kind, takes: current.takes })
    } catch {
      clearTimeout(timer)
      inFlight.delete(id)
      for (const r of current.resolvers) r(fallback)
    }
  }

  return {
    take(key: string, requestsPerSecond: number, burst: number): Promise<ThrottleDecision> {
      return new Promise((resolve) => {
        if (!batch) {
          batch = { takes: [], resolvers: [] }
          setImmediate(flush)
        }
        batch.takes.push([key, requestsPerSecond, burst])
        batch.resolvers.push(resolve)
      })
    },
    answer(id, answers) {
      const waiting = inFlight.get(id)
      if (!waiting) return
      inFlight.delete(id)
      waiting.resolvers.forEach((resolve, i) => {
        const a = answers[i]
        resolve(a ? { allowed: a[0], retryAfterSeconds: a[1] } : fallback)
      })
    },
  }
}

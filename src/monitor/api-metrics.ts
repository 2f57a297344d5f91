/**
 * Control-plane API counters: requests by route template (never the raw path: ids and junk would each make a
 * series), method and status class; logins by outcome. Plain maps keyed by the bounded label tuple; the route
 * template comes from the router (a request that matched no route counts as `unmatched`).
 */

export const LOGIN_OUTCOMES = ['success', 'failure', 'throttled', 'second_factor_required'] as const
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number]

const API_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

export interface ApiCount {
  readonly route: string
  readonly method: string
  readonly statusClass: string
  readonly value: number
}

export class ApiMetrics {
  readonly #requests = new Map<string, ApiCount>()
  readonly #logins = new Map<LoginOutcome, number>(LOGIN_OUTCOMES.map((o) => [o, 0]))

  /**
   * One answered request. `routeTemplate` is the router's pattern (`/v1/environments/:id`) or undefined.
   * Login outcomes are read from `POST /v1/sessions`'s status and error code.
   */
  record(routeTemplate: string | undefined, method: string, status: number, errorCode?: string): void {
    const route = routeTemplate ?? 'unmatched'
    const m = API_METHODS.has(method) ? method : 'other'
    const c = Math.floor(status / 100)
    const statusClass = c >= 1 && c <= 5 ? `${c}xx` : '5xx'
    const key = `${route} ${m} ${statusClass}`
    const prev = this.#requests.get(key)
    this.#requests.set(key, { route, method: m, statusClass, value: (prev?.value ?? 0) + 1 })
    if (route === '/v1/sessions' && method === 'POST') {
      const outcome: LoginOutcome | null =
        status === 201
          ? 'success'
          : status === 429
            ? 'throttled'
            : errorCode === 'totp_required'
              ? 'second_factor_required'
              : status === 401
                ? 'failure'
                : null
      if (outcome) this.#logins.set(outcome, (this.#logins.get(outcome) ?? 0) + 1)
    }
  }

  requests(): Iterable<ApiCount> {
    return this.#requests.values()
  }

  logins(): ReadonlyMap<LoginOutcome, number> {
    return this.#logins
  }
}

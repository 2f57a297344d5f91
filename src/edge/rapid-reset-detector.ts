/**
 * Tells a rapid-reset flood (CVE-2023-44487) from a client that sometimes cancels: per HTTP/2 session, the
 * streams the client opened against the ones it cancelled before their answer was complete. A flood is at
 * least `minCancelledStreams` cancellations that are also at least `maxCancelledShare` of the streams opened
 * (Envoy's premature-reset check). Counts only, no clock: a flood is caught after the same number of streams
 * however fast the client sends them or the edge refuses them.
 */
export interface RapidResetLimits {
  readonly minCancelledStreams: number
  /** Share of opened streams, 0..1. */
  readonly maxCancelledShare: number
}

export class RapidResetDetector {
  readonly #limits: RapidResetLimits
  #opened = 0
  #cancelled = 0

  constructor(limits: RapidResetLimits) {
    this.#limits = Object.freeze({ ...limits })
  }

  streamOpened(): void {
    this.#opened++
  }

  /** Records a stream the client cancelled; returns whether the session is now a flood. */
  streamCancelled(): boolean {
    this.#cancelled++
    return this.isRapidReset
  }

  get isRapidReset(): boolean {
    return (
      this.#cancelled >= this.#limits.minCancelledStreams &&
      this.#cancelled >= this.#opened * this.#limits.maxCancelledShare
    )
  }
}

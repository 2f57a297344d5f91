/** Collects items and hands them over in batches: at most one flush per interval, or when `maxItems` wait. */
export interface EventBatcher<T> {
  push(items: readonly T[]): void
  /** Hands over what waits now (at stop). */
  flush(): void
  close(): void
}

/**
 * Used by the control plane for the workers' WAF events: the store receives one write per environment per
 * interval, however many blocked requests a flood sends.
 */
export function createEventBatcher<T>(
  flush: (items: T[]) => void,
  options: { readonly intervalMs: number; readonly maxItems: number },
): EventBatcher<T> {
  let items: T[] = []
  let timer: NodeJS.Timeout | null = null
  const run = (): void => {
    if (timer) clearTimeout(timer)
    timer = null
    if (items.length === 0) return
    const batch = items
    items = []
    flush(batch)
  }
  return {
    push(more) {
      for (const item of more) items.push(item)
      if (items.length >= options.maxItems) run()
      else if (!timer && items.length > 0) {
        timer = setTimeout(run, options.intervalMs)
        timer.unref()
      }
    },
    flush: run,
    close() {
      run()
    },
  }
}

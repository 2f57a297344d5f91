import { useEffect, useState } from 'preact/hooks'

/**
 * Loads something that runs on the server (a backup, a sync, a job) until it stops running: `load` every `everyMs`
 * while `running(value)`, then `onDone(value, live)` once (`live()` says whether the page still shows it).
 */
export function usePoll<T>(
  load: () => Promise<T>,
  running: (value: T) => boolean,
  onDone: (value: T, live: () => boolean) => void | Promise<void>,
  deps: readonly unknown[],
  everyMs = 1000,
): { value: T | null; error: unknown } {
  const [value, setValue] = useState<T | null>(null)
  const [error, setError] = useState<unknown>(undefined)
  useEffect(() => {
    let live = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const isLive = (): boolean => live
    const poll = async (): Promise<void> => {
      try {
        const v = await load()
        if (!live) return
        setValue(v)
        if (running(v)) timer = setTimeout(() => void poll(), everyMs)
        else await onDone(v, isLive)
      } catch (e) {
        if (live) setError(e)
      }
    }
    void poll()
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, deps)
  return { value, error }
}

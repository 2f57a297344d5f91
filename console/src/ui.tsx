import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiError } from './api/client'
import { navigate } from './router'

/** An in-console link: a real <a href> (keyboard, middle-click) that navigates without a reload. */
export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(props.href)
  }
  return (
    <a href={props.href} onClick={onClick} class={props.class}>
      {props.children}
    </a>
  )
}

/** A failure as a person reads it: the server's message and the request id to quote. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null
  const e =
    error instanceof ApiError
      ? error
      : new ApiError(0, undefined, error instanceof Error ? error.message : 'unexpected error')
  return (
    <div class="error" role="alert">
      <strong>{e.message}</strong>
      {e.status ? <span class="muted"> (HTTP {e.status}</span> : null}
      {e.requestId ? <span class="muted">, request id {e.requestId})</span> : e.status ? ')' : null}
    </div>
  )
}

export interface Loaded<T> {
  data: T | undefined
  error: unknown
  loading: boolean
  reload: () => void
}

/** Loads once per change of `deps`; `reload` loads again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    setState((s) => ({ ...s, loading: true }))
    fn().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    )
    return () => {
      live = false
    }
  }, [...deps, tick])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { ...state, reload }
}

/** Shows loading, the error, or the content. */
export function Show<T>({ load, children }: { load: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (load.error) return <ErrorNote error={load.error} />
  if (load.data === undefined)
    return (
      <p class="muted" role="status">
        Loading…
      </p>
    )
  return <>{children(load.data)}</>
}

/** A form that runs `action`, shows its failure (field errors next to their fields) and disables while busy. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const run = async (...args: A): Promise<R | undefined> => {
    setBusy(true)
    setError(undefined)
    try {
      return await action(...args)
    } catch (e) {
      setError(e)
      return undefined
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, run, setError }
}

export function Field(props: {
  label: string
  name: string
  error?: unknown
  type?: 'text' | 'email' | 'password' | 'number'
  value: string
  onInput: (v: string) => void
  required?: boolean
  autocomplete?: string
  placeholder?: string
  inputMode?: 'numeric' | 'text' | 'email'
}) {
  const id = `f-${props.name}`
  // Preact types <input> as a union by `type`; every type offered here takes the same attributes.
  const inputType = { type: props.type ?? 'text' } as { type: 'text' }
  const message = props.error instanceof ApiError ? props.error.field(props.name) : undefined
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        {...inputType}
        value={props.value}
        required={props.required ?? false}
        autocomplete={props.autocomplete ?? 'off'}
        placeholder={props.placeholder ?? ''}
        inputMode={props.inputMode}
        aria-invalid={message ? 'true' : undefined}
        aria-describedby={message ? `${id}-err` : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {message ? (
        <span id={`${id}-err`} class="field-error">
          {message}
        </span>
      ) : null}
    </div>
  )
}

export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">–</span>
  const d = new Date(iso)
  return <time dateTime={iso}>{d.toLocaleString()}</time>
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.replace(/[^a-z-]/g, '')}`}>{status}</span>
}

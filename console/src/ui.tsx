import { Fragment, type ComponentChildren } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiError } from './api/client'
import { navigate } from './router'

/** An in-console link: a real <a href> (keyboard, middle-click) that navigates without a reload. */
export function Link(props: {
  href: string
  children: ComponentChildren
  class?: string
  current?: boolean
}) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(props.href)
  }
  return (
    <a
      href={props.href}
      onClick={onClick}
      class={props.class}
      aria-current={props.current ? 'page' : undefined}
    >
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

/** A form that runs `onSubmit` without a page load (every console form: keyboard Enter submits it). */
export function Form(props: {
  onSubmit: () => void
  class?: string
  children: ComponentChildren
  label?: string
}) {
  return (
    <form
      class={props.class}
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault()
        props.onSubmit()
      }}
    >
      {props.children}
    </form>
  )
}

/** A labelled <select> whose options are plain strings (or [value, label] pairs). */
export function Select<T extends string>(props: {
  label: string
  name: string
  value: T
  options: ReadonlyArray<T | readonly [T, string]>
  onChange: (v: T) => void
  error?: unknown
}) {
  const id = `f-${props.name}`
  const message = props.error instanceof ApiError ? props.error.field(props.name) : undefined
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        aria-invalid={message ? 'true' : undefined}
        aria-describedby={message ? `${id}-err` : undefined}
        onChange={(e) => props.onChange(e.currentTarget.value as T)}
      >
        {props.options.map((o) => {
          const [value, label] = typeof o === 'string' ? [o, o] : o
          return (
            <option key={value} value={value}>
              {label}
            </option>
          )
        })}
      </select>
      {message ? (
        <span id={`${id}-err`} class="field-error">
          {message}
        </span>
      ) : null}
    </div>
  )
}

export function Checkbox(props: {
  label: string
  name: string
  checked: boolean
  onChange: (v: boolean) => void
}) {
  return (
    <div class="field">
      <label class="check">
        <input
          type="checkbox"
          name={props.name}
          checked={props.checked}
          onChange={(e) => props.onChange(e.currentTarget.checked)}
        />{' '}
        {props.label}
      </label>
    </div>
  )
}

export const PAGE_SIZE = 20

/**
 * Pages a list the API answered whole (small per-environment lists: services, backups, domains…): the table
 * shows PAGE_SIZE rows and Previous / Next buttons.
 */
export function Paged<T>(props: {
  items: readonly T[]
  label: string
  children: (page: readonly T[]) => ComponentChildren
}) {
  const [page, setPage] = useState(0)
  const pages = Math.max(1, Math.ceil(props.items.length / PAGE_SIZE))
  const at = Math.min(page, pages - 1)
  const slice = props.items.slice(at * PAGE_SIZE, (at + 1) * PAGE_SIZE)
  return (
    <>
      {props.children(slice)}
      {pages > 1 ? (
        <nav class="buttons" aria-label={`${props.label} pages`}>
          <button type="button" disabled={at === 0} onClick={() => setPage(at - 1)}>
            Previous page
          </button>
          <span>
            Page {at + 1} of {pages}
          </span>
          <button type="button" disabled={at >= pages - 1} onClick={() => setPage(at + 1)}>
            Next page
          </button>
        </nav>
      ) : null}
    </>
  )
}

/** A destructive row action confirmed by typing a word (see TypedConfirm): what to type, what it says, what it runs. */
export interface RowConfirm<T> {
  word: (item: T) => string
  label: (item: T) => string
  button: string
  run: (item: T) => Promise<unknown>
}

/**
 * The console's list page in one piece: loading or the error, the empty text, then the paged table with its
 * header row (a falsy column is left out: a column only some roles see) and one row per item. `row` renders the
 * whole <tr>; its `ask` opens the typed confirmation of `confirm` for that item, shown under the table. The
 * table's test id is the label's (`IP groups`: `ip-groups-table`).
 */
export function PagedTable<T>(props: {
  load: Loaded<{ items: readonly T[] }>
  label: string
  empty: string
  columns: ReadonlyArray<string | false | null>
  rowKey: (item: T) => string
  row: (item: T, ask: () => void) => ComponentChildren
  confirm?: RowConfirm<T>
}) {
  const [asked, setAsked] = useState<T | null>(null)
  const act = useAction(async (item: T) => {
    await props.confirm?.run(item)
    setAsked(null)
  })
  const { confirm } = props
  return (
    <>
      <Show load={props.load}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">{props.empty}</p>
          ) : (
            <Paged items={page.items} label={props.label}>
              {(items) => (
                <table data-testid={`${props.label.toLowerCase().replace(/ /g, '-')}-table`}>
                  <thead>
                    <tr>
                      {props.columns.map((c) =>
                        c ? (
                          <th key={c} scope="col">
                            {c}
                          </th>
                        ) : null,
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((item) => (
                      <Fragment key={props.rowKey(item)}>
                        {props.row(item, () => {
                          act.setError(undefined)
                          setAsked(() => item)
                        })}
                      </Fragment>
                    ))}
                  </tbody>
                </table>
              )}
            </Paged>
          )
        }
      </Show>
      {confirm && asked !== null ? (
        <TypedConfirm
          key={props.rowKey(asked)}
          word={confirm.word(asked)}
          label={confirm.label(asked)}
          button={confirm.button}
          busy={act.busy}
          error={act.error}
          onConfirm={() => void act.run(asked)}
          onCancel={() => setAsked(null)}
        />
      ) : null}
    </>
  )
}

/** Bytes as a person reads them. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–'
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

/**
 * A destructive action confirmed by typing a word (the environment's name, "restore"…): the button stays
 * disabled until the text matches.
 */
export function TypedConfirm(props: {
  word: string
  label: string
  button: string
  busy: boolean
  onConfirm: () => void
  onCancel: () => void
  error?: unknown
}) {
  const [typed, setTyped] = useState('')
  return (
    <Form class="panel danger" onSubmit={() => typed === props.word && props.onConfirm()}>
      <Field
        label={`${props.label} — type ${props.word} to confirm`}
        name="confirm"
        value={typed}
        onInput={setTyped}
        required
      />
      <ErrorNote error={props.error} />
      <p class="buttons">
        <button type="submit" class="danger" disabled={props.busy || typed !== props.word}>
          {props.button}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </p>
    </Form>
  )
}

/** A labelled multi-line field (lists typed one item a line), with its field error beside it. */
export function TextArea(props: {
  label: string
  name: string
  value: string
  onInput: (v: string) => void
  error?: unknown
  rows?: number
}) {
  const id = `f-${props.name}`
  const message = props.error instanceof ApiError ? props.error.field(props.name) : undefined
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 4}
        value={props.value}
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

/** One item a line, blank lines dropped. */
export const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)

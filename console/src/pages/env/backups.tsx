import { useState } from 'preact/hooks'
import { api, ok } from '../../api/client'
import { usePoll } from '../../poll'
import type { paths } from '../../api/schema'
import { mayOn } from '../../session'
import {
  bytes,
  Checkbox,
  ErrorNote,
  Field,
  Form,
  PagedTable,
  Show,
  StatusBadge,
  useAction,
  useLoad,
  When,
} from '../../ui'
import type { EnvTabProps } from './types'

/** Backups: create (with progress until it ends), list, download, restore after a typed confirmation, schedule. */
export function Backups({ env, role }: EnvTabProps) {
  const id = env.id
  const canManage = mayOn(role, 'developer', env.criticality)
  const load = useLoad(() => ok(api.GET('/v1/environments/{id}/backups', { params: { path: { id } } })), [id])
  const [files, setFiles] = useState(true)
  const [running, setRunning] = useState<string | null>(null)
  const create = useAction(async () => {
    const b = await ok(
      api.POST('/v1/environments/{id}/backups', { params: { path: { id } }, body: { files } }),
    )
    setRunning(b.id)
    load.reload()
  })
  const [restored, setRestored] = useState<string | null>(null)
  return (
    <>
      <section aria-labelledby="backups-h">
        <h2 id="backups-h">Backups</h2>
        {running ? (
          <BackupProgress
            id={running}
            onDone={() => {
              setRunning(null)
              load.reload()
            }}
          />
        ) : null}
        {restored ? (
          <p class="notice" role="status" data-testid="restore-done">
            {restored}
          </p>
        ) : null}
        <PagedTable
          load={load}
          label="Backups"
          empty="No backups."
          columns={['Created', 'Status', 'Origin', 'Contents', 'Size', 'Actions']}
          rowKey={(b) => b.id}
          row={(b, ask) => (
            <tr>
              <td>
                <When iso={b.createdAt} />
              </td>
              <td>
                <StatusBadge status={b.status} />
                {b.reason ? <div class="muted">{b.reason}</div> : null}
              </td>
              <td>{b.origin}</td>
              <td>
                {[
                  ...b.contents.services.map((s) => `${s.name} (${s.type})`),
                  b.contents.files.length
                    ? `${b.contents.files.length} ${b.contents.files.length === 1 ? 'directory' : 'directories'}`
                    : '',
                ]
                  .filter(Boolean)
                  .join(', ') || '–'}
              </td>
              <td>{bytes(b.sizeBytes)}</td>
              <td class="buttons">
                {b.status === 'succeeded' ? (
                  <a href={`/v1/backups/${encodeURIComponent(b.id)}/download`} download>
                    Download
                  </a>
                ) : null}
                {canManage && b.status === 'succeeded' ? (
                  <button
                    type="button"
                    class="link"
                    onClick={ask}
                    aria-label={`Restore the backup of ${new Date(b.createdAt).toLocaleString()}`}
                  >
                    Restore
                  </button>
                ) : null}
              </td>
            </tr>
          )}
          confirm={{
            word: () => env.name,
            label: (b) =>
              `Restore ${env.name} to the backup of ${new Date(b.createdAt).toLocaleString()} (its current data is replaced)`,
            button: 'Restore this backup',
            run: async (b) => {
              const r = await ok(api.POST('/v1/backups/{id}/restore', { params: { path: { id: b.id } } }))
              setRestored(`Restored the backup of ${new Date(b.createdAt).toLocaleString()} (${r.status}).`)
              load.reload()
            },
          }}
        />
        {canManage ? (
          <Form class="panel inline" onSubmit={() => void create.run()} label="New backup">
            <Checkbox
              label="Include persistent directories"
              name="files"
              checked={files}
              onChange={setFiles}
            />
            <button type="submit" disabled={create.busy || running !== null}>
              {create.busy ? 'Starting…' : 'Create a backup'}
            </button>
            <ErrorNote error={create.error} />
          </Form>
        ) : null}
      </section>
      <Schedule id={id} canManage={canManage} />
    </>
  )
}

/** Polls a backup until it is no longer running; shows where it stands. */
function BackupProgress({ id, onDone }: { id: string; onDone: () => void }) {
  const { value: b, error } = usePoll(
    () => ok(api.GET('/v1/backups/{id}', { params: { path: { id } } })),
    (d) => d.status === 'running',
    onDone,
    [id],
  )
  return (
    <div class="panel" data-testid="backup-progress">
      <p role="status">
        {b === null || b.status === 'running' ? (
          <>
            <progress aria-label="Backup in progress" /> Backing up…
          </>
        ) : (
          <>
            Backup {b.status}: {bytes(b.sizeBytes)}
            {b.reason ? ` — ${b.reason}` : ''}
          </>
        )}
      </p>
      <ErrorNote error={error} />
    </div>
  )
}

function Schedule({ id, canManage }: { id: string; canManage: boolean }) {
  const load = useLoad(
    () => ok(api.GET('/v1/environments/{id}/backup-schedule', { params: { path: { id } } })),
    [id],
  )
  return (
    <section aria-labelledby="schedule-h">
      <h2 id="schedule-h">Backup schedule</h2>
      <Show load={load}>
        {(s) => (
          <ScheduleForm
            key={s.updatedAt ?? 'none'}
            id={id}
            s={s}
            canManage={canManage}
            onSaved={load.reload}
          />
        )}
      </Show>
    </section>
  )
}

type ScheduleView =
  paths['/v1/environments/{id}/backup-schedule']['get']['responses'][200]['content']['application/json']

function ScheduleForm(props: { id: string; s: ScheduleView; canManage: boolean; onSaved: () => void }) {
  const { s } = props
  const [enabled, setEnabled] = useState(s.enabled)
  const [every, setEvery] = useState(String(s.everyHours))
  const [keep, setKeep] = useState(String(s.keep))
  const [files, setFiles] = useState(s.files)
  const [saved, setSaved] = useState(false)
  const save = useAction(async () => {
    await ok(
      api.PUT('/v1/environments/{id}/backup-schedule', {
        params: { path: { id: props.id } },
        body: { enabled, everyHours: Number(every), keep: Number(keep), files },
      }),
    )
    setSaved(true)
    props.onSaved()
  })
  return (
    <>
      <dl class="facts">
        <dt>Schedule</dt>
        <dd data-testid="schedule-state">
          {s.enabled ? `every ${s.everyHours} h, keeping ${s.keep}` : 'off'}
        </dd>
        <dt>Next run</dt>
        <dd>
          <When iso={s.nextRunAt} />
        </dd>
        <dt>Last run</dt>
        <dd>
          <When iso={s.lastRunAt} />
          {s.lastError ? <span class="error"> {s.lastError}</span> : null}
        </dd>
      </dl>
      {props.canManage ? (
        <Form class="panel inline" onSubmit={() => void save.run()} label="Backup schedule">
          <Checkbox label="Scheduled backups on" name="enabled" checked={enabled} onChange={setEnabled} />
          <Field
            label="Every (hours, 1–168)"
            name="everyHours"
            type="number"
            value={every}
            onInput={setEvery}
            error={save.error}
          />
          <Field
            label="Keep (1–100)"
            name="keep"
            type="number"
            value={keep}
            onInput={setKeep}
            error={save.error}
          />
          <Checkbox
            label="Include persistent directories"
            name="schedule-files"
            checked={files}
            onChange={setFiles}
          />
          <button type="submit" disabled={save.busy}>
            Save schedule
          </button>
          {saved ? <span role="status">Saved.</span> : null}
          <ErrorNote error={save.error} />
        </Form>
      ) : null}
    </>
  )
}

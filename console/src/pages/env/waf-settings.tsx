import { useState } from 'preact/hooks'
import { api, ok } from '../../api/client'
import type { paths } from '../../api/schema'
import { atLeast } from '../../session'
import { ErrorNote, Field, Form, Select, Show, TextArea, useAction, useLoad } from '../../ui'
import { WafEvents } from '../waf'
import type { EnvTabProps } from './types'

type Waf = paths['/v1/environments/{id}/waf']['get']['responses'][200]['content']['application/json']
type Exclusion = NonNullable<
  paths['/v1/environments/{id}/waf']['put']['requestBody']['content']['application/json']['exclusions']
>[number]
/** An exclusion as read back (the generated type widens the rule range to number[]). */
type ShownExclusion = { ruleId?: number | readonly number[]; tag?: string; target?: string }
const PARANOIA = [
  ['1', '1 — fewest false positives'],
  ['2', '2'],
  ['3', '3'],
  ['4', '4 — strictest'],
] as const

/** The WAF's tuning (it is always on and blocking: paranoia, anomaly thresholds, rule exclusions) and its events. */
export function WafTab({ env, role }: EnvTabProps) {
  const id = env.id
  const load = useLoad(() => ok(api.GET('/v1/environments/{id}/waf', { params: { path: { id } } })), [id])
  return (
    <>
      <section aria-labelledby="wafset-h">
        <h2 id="wafset-h">WAF settings</h2>
        <Show load={load}>
          {(w) => (
            <>
              <dl class="facts" data-testid="waf-state">
                <dt>Mode</dt>
                <dd>{w.mode} (always on)</dd>
                <dt>Paranoia level</dt>
                <dd>{w.paranoia}</dd>
                <dt>Inbound threshold</dt>
                <dd>{w.inboundThreshold}</dd>
                <dt>Outbound threshold</dt>
                <dd>{w.outboundThreshold}</dd>
                <dt>Exclusions</dt>
                <dd class="mono">{w.exclusions.length ? w.exclusions.map(describe).join('; ') : 'none'}</dd>
              </dl>
              {atLeast(role, 'admin') ? (
                <WafForm key={JSON.stringify(w)} id={id} waf={w} onSaved={load.reload} />
              ) : null}
            </>
          )}
        </Show>
      </section>
      <WafEvents id={id} />
    </>
  )
}

function ruleText(r: ShownExclusion['ruleId'], sep: string): string {
  if (r === undefined) return ''
  return typeof r === 'number' ? String(r) : r.map(String).join(sep)
}

function describe(x: ShownExclusion): string {
  const rule =
    x.ruleId === undefined
      ? ''
      : `${typeof x.ruleId === 'number' ? 'rule' : 'rules'} ${ruleText(x.ruleId, '-')}`
  return [rule, x.tag ? `tag ${x.tag}` : '', x.target ? `target ${x.target}` : ''].filter(Boolean).join(' ')
}

/** One exclusion a line: `942100`, `942100-942999`, `tag:attack-sqli`, each optionally followed by `target ARGS:q`. */
function parseExclusions(text: string): Exclusion[] {
  const out: Exclusion[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line) continue
    const [what = '', ...rest] = line.split(/\s+/)
    const target = rest[0] === 'target' ? rest.slice(1).join(' ') : rest.join(' ')
    const x: Exclusion = {}
    const range = /^(\d+)-(\d+)$/.exec(what)
    if (range) x.ruleId = [Number(range[1]), Number(range[2])]
    else if (/^\d+$/.test(what)) x.ruleId = Number(what)
    else if (what.startsWith('tag:')) x.tag = what.slice(4)
    else x.tag = what
    if (target) x.target = target
    out.push(x)
  }
  return out
}

function formatExclusion(x: ShownExclusion): string {
  const what = x.ruleId !== undefined ? ruleText(x.ruleId, '-') : `tag:${x.tag ?? ''}`
  return x.target ? `${what} target ${x.target}` : what
}

function WafForm(props: {
  id: string
  waf: Omit<Waf, 'exclusions'> & { exclusions: ShownExclusion[] }
  onSaved: () => void
}) {
  const [paranoia, setParanoia] = useState(String(props.waf.paranoia) as (typeof PARANOIA)[number][0])
  const [inbound, setInbound] = useState(String(props.waf.inboundThreshold))
  const [outbound, setOutbound] = useState(String(props.waf.outboundThreshold))
  const [exclusions, setExclusions] = useState(props.waf.exclusions.map(formatExclusion).join('\n'))
  const save = useAction(async () => {
    await ok(
      api.PUT('/v1/environments/{id}/waf', {
        params: { path: { id: props.id } },
        body: {
          paranoia: Number(paranoia),
          inboundThreshold: Number(inbound),
          outboundThreshold: Number(outbound),
          exclusions: parseExclusions(exclusions),
        },
      }),
    )
    props.onSaved()
  })
  return (
    <Form class="panel" onSubmit={() => void save.run()} label="WAF settings">
      <Select
        label="Paranoia level"
        name="paranoia"
        value={paranoia}
        options={PARANOIA}
        onChange={setParanoia}
        error={save.error}
      />
      <Field
        label="Inbound anomaly threshold"
        name="inboundThreshold"
        type="number"
        value={inbound}
        onInput={setInbound}
        error={save.error}
      />
      <Field
        label="Outbound anomaly threshold"
        name="outboundThreshold"
        type="number"
        value={outbound}
        onInput={setOutbound}
        error={save.error}
      />
      <TextArea
        label="Rule exclusions, one a line: 942100, 942100-942199 or tag:attack-sqli, optionally followed by target ARGS:q"
        name="exclusions"
        value={exclusions}
        onInput={setExclusions}
        error={save.error}
      />
      <ErrorNote error={save.error} />
      <button type="submit" disabled={save.busy}>
        Save WAF settings
      </button>
    </Form>
  )
}

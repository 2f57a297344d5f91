import { api, ok } from '../api/client'
import { Show, useLoad, When } from '../ui'

interface WafEvent {
  at: string
  action: string
  clientIp: string
  rules: Array<{ id: number; msg?: string }>
  method: string
  uri: string
}

const BUCKETS = 24

/** Blocks per time bucket over the span of the events (the last hour at least). */
export function bucketBlocks(
  events: readonly WafEvent[],
  now: number,
): { start: number; size: number; counts: number[] } {
  const blocks = events.filter((e) => e.action === 'block').map((e) => Date.parse(e.at))
  const earliest = Math.min(now - 3600_000, ...blocks)
  const size = Math.max(1, Math.ceil((now - earliest) / BUCKETS))
  const counts = new Array<number>(BUCKETS).fill(0)
  for (const t of blocks) {
    const i = Math.min(BUCKETS - 1, Math.max(0, Math.floor((t - earliest) / size)))
    counts[i] = (counts[i] ?? 0) + 1
  }
  return { start: earliest, size, counts }
}

function top<T>(items: readonly T[], key: (t: T) => string[], n = 5): Array<[string, number]> {
  const m = new Map<string, number>()
  for (const item of items) for (const k of key(item)) m.set(k, (m.get(k) ?? 0) + 1)
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n)
}

/** Inline SVG (no script, no style attribute: the CSP allows neither). */
function BlocksChart({ events }: { events: readonly WafEvent[] }) {
  const { start, size, counts } = bucketBlocks(events, Date.now())
  const max = Math.max(1, ...counts)
  const W = 480
  const H = 120
  const bw = W / counts.length
  const total = counts.reduce((a, b) => a + b, 0)
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${H + 20}`}
        width="100%"
        role="img"
        aria-label={`Blocked requests over time: ${total} in total since ${new Date(start).toLocaleString()}`}
        data-testid="waf-chart"
      >
        {counts.map((c, i) => {
          const h = (c / max) * H
          return (
            <rect key={i} class="bar" x={i * bw + 1} y={H - h} width={bw - 2} height={h} data-count={c}>
              <title>{`${c} blocked from ${new Date(start + i * size).toLocaleTimeString()}`}</title>
            </rect>
          )
        })}
        <line x1="0" y1={H} x2={W} y2={H} class="axis" />
        <text x="0" y={H + 15} class="tick">
          {new Date(start).toLocaleTimeString()}
        </text>
        <text x={W} y={H + 15} class="tick end">
          now
        </text>
      </svg>
      <figcaption>Blocked requests over time ({total})</figcaption>
    </figure>
  )
}

export function WafEvents({ id }: { id: string }) {
  const load = useLoad(
    () =>
      ok(api.GET('/v1/environments/{id}/waf-events', { params: { path: { id }, query: { limit: 200 } } })),
    [id],
  )
  return (
    <section aria-labelledby="waf-h">
      <h2 id="waf-h">
        WAF events{' '}
        <button type="button" class="link" onClick={load.reload}>
          Refresh
        </button>
      </h2>
      <Show load={load}>
        {(page) => {
          const blocks = page.items.filter((e) => e.action === 'block')
          return (
            <>
              <BlocksChart events={page.items} />
              <div class="columns">
                <div>
                  <h3>Top rules</h3>
                  <ol class="toplist" data-testid="top-rules">
                    {top(blocks, (e) => e.rules.map((r) => String(r.id))).map(([rule, n]) => (
                      <li key={rule}>
                        <span class="mono">{rule}</span> — {n}
                      </li>
                    ))}
                  </ol>
                </div>
                <div>
                  <h3>Top sources</h3>
                  <ol class="toplist" data-testid="top-sources">
                    {top(blocks, (e) => [e.clientIp]).map(([ip, n]) => (
                      <li key={ip}>
                        <span class="mono">{ip}</span> — {n}
                      </li>
                    ))}
                  </ol>
                </div>
              </div>
              {page.items.length ? (
                <table>
                  <caption>Latest events</caption>
                  <thead>
                    <tr>
                      <th scope="col">At</th>
                      <th scope="col">Action</th>
                      <th scope="col">Request</th>
                      <th scope="col">Source</th>
                      <th scope="col">Rules</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.slice(0, 20).map((e) => (
                      <tr key={e.id}>
                        <td>
                          <When iso={e.at} />
                        </td>
                        <td>{e.action}</td>
                        <td class="mono">
                          {e.method} {e.uri.slice(0, 120)}
                        </td>
                        <td class="mono">{e.clientIp}</td>
                        <td class="mono">{e.rules.map((r) => r.id).join(', ')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p class="muted">No WAF events.</p>
              )}
            </>
          )
        }}
      </Show>
    </section>
  )
}

import type { Registry } from 'prom-client'

/** One sample: its labels (fixed, bounded sets only) and value. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
  /** For histograms: `_bucket`, `_sum` or `_count`. */
  readonly suffix?: '_bucket' | '_sum' | '_count'
}

type MetricType = 'counter' | 'gauge' | 'histogram'

/**
 * A metric whose samples are read from counters kept elsewhere at scrape time (prom-client's `collect()` idea
 * without a prom-client object per label set): the hot paths only add to plain arrays, and a scrape reads them.
 */
export function registerSnapshotMetric(
  registry: Registry,
  name: string,
  help: string,
  type: MetricType,
  read: () => Iterable<Sample> | Promise<Iterable<Sample>>,
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      const values: Array<{ labels: Record<string, string>; value: number; metricName?: string }> = []
      for (const s of await read())
        values.push({
          labels: { ...s.labels },
          value: s.value,
          ...(s.suffix ? { metricName: name + s.suffix } : {}),
        })
      return { name, help, type, aggregator: 'sum', values }
    },
  }
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0])
}

/** The `_bucket` (cumulative, with `+Inf`), `_sum` and `_count` samples of one histogram label set. */
export function histogramSamples(
  labels: Readonly<Record<string, string>>,
  bounds: readonly number[],
  counts: readonly number[],
  sum: number,
): Sample[] {
  const out: Sample[] = []
  let running = 0
  for (let i = 0; i < bounds.length; i++) {
    running += counts[i] ?? 0
    out.push({ labels: { ...labels, le: String(bounds[i]) }, value: running, suffix: '_bucket' })
  }
  running += counts[bounds.length] ?? 0
  out.push({ labels: { ...labels, le: '+Inf' }, value: running, suffix: '_bucket' })
  out.push({ labels, value: sum, suffix: '_sum' })
  out.push({ labels, value: running, suffix: '_count' })
  return out
}

// PromQL fragments built from the metrics catalog: every metric name in a dashboard comes through
// here, so renaming a catalog row is a compile error (the key) or a failing test (the name), never a
// dashboard that silently shows "No data".
import type { MetricDef } from '../../src/telemetry/catalog.js';

type Histogram = MetricDef & { readonly kind: 'histogram' };
type Counter = MetricDef & { readonly kind: 'counter' };
type Gauge = MetricDef & { readonly kind: 'gauge' };

/**
 * Twilio's own cut-offs (reference sections 2.2 and 4.5), each an exact bucket boundary of its
 * catalog histogram (test/ops/dashboards.test.ts holds them to it), so a bucket ratio is exact.
 */
export const TWILIO_THRESHOLDS = {
  /** high_jitter tag (max >= 30 ms) and the SDK high-jitter warning (> 30 ms). */
  jitterSeconds: 0.03,
  /** high_packet_loss tag: > 5 % loss. */
  lossRatio: 0.05,
  /** low_mos tag and SDK warning: MOS < 3.5. */
  mos: 3.5,
  /** SDK high_latency tag and high-rtt warning: RTT > 400 ms. */
  rttSeconds: 0.4,
} as const;

/** Every dashboard query is scoped to the selected scrape job(s). */
export const JOB_MATCHER = 'job=~"$job"';
/** Grafana's rate window: at least four scrape intervals, so rate() always has two samples. */
export const RATE_WINDOW = '$__rate_interval';

/** `name{job=~"$job",extra}`: a selector over the series named `name`. */
export function sel(name: string, ...matchers: string[]): string {
  return `${name}{${[JOB_MATCHER, ...matchers.filter((m) => m !== '')].join(',')}}`;
}

export const counter = (d: Counter): string => d.name;
export const gauge = (d: Gauge): string => d.name;
export const bucket = (d: Histogram): string => `${d.name}_bucket`;
export const count = (d: Histogram): string => `${d.name}_count`;
export const sum = (d: Histogram): string => `${d.name}_sum`;

/** `le` as the exporter prints it (shortest round-trip decimal, like JavaScript's String()). */
export const le = (boundary: number): string => `le="${String(boundary)}"`;

const by = (labels: readonly string[]): string => (labels.length === 0 ? '' : ` by (${labels.join(', ')})`);

/** `sum by (labels) (rate(series[window]))`. */
export function sumRate(series: string, labels: readonly string[] = [], window = RATE_WINDOW): string {
  return `sum${by(labels)} (rate(${series}[${window}]))`;
}

/** `sum by (labels) (increase(series[window]))`, for "how many in the selected range". */
export function sumIncrease(series: string, labels: readonly string[] = [], window = '$__range'): string {
  return `sum${by(labels)} (increase(${series}[${window}]))`;
}

/**
 * A gauge that replicas do not add up: with the shared store every replica reports the same store-wide
 * figure (calls in flight, trace queue), and each replica's active calls are its own view of the same
 * calls (a load balancer spreads every call's deliveries over all replicas). So the replicas of one job
 * are folded with `max without (instance)` and only then jobs are added: right for one replica, for
 * N replicas on one store, and for several jobs.
 */
export function sumOfReplicaMax(series: string, labels: readonly string[] = []): string {
  return `sum${by(labels)} (max without (instance) (${series}))`;
}

/** Grouping labels, extra matchers and the range window of a histogram query. */
export interface HistogramOpts {
  by?: readonly string[];
  match?: readonly string[];
  /** Default `$__rate_interval`; `$__range` for "over the selected time range". */
  window?: string;
}

/** Quantile `q` of a histogram, per label set: histogram_quantile over summed bucket rates. */
export function quantile(q: number, d: Histogram, o: HistogramOpts = {}): string {
  return `histogram_quantile(${q}, ${sumRate(sel(bucket(d), ...(o.match ?? [])), ['le', ...(o.by ?? [])], o.window)})`;
}

/**
 * Share of observations above `boundary`: (count - bucket{le}) / count. Written as a difference
 * rather than `1 - bucket / count` so that a share exactly at a threshold compares equal to it.
 */
export function shareAbove(d: Histogram, boundary: number, o: HistogramOpts = {}): string {
  const m = o.match ?? [];
  const total = sumRate(sel(count(d), ...m), o.by, o.window);
  return `(${total} - ${sumRate(sel(bucket(d), le(boundary), ...m), o.by, o.window)}) / ${total}`;
}

/** Share of observations at or below `boundary`: bucket{le} / count. */
export function shareAtOrBelow(d: Histogram, boundary: number, o: HistogramOpts = {}): string {
  const m = o.match ?? [];
  return `${sumRate(sel(bucket(d), le(boundary), ...m), o.by, o.window)} / ${sumRate(sel(count(d), ...m), o.by, o.window)}`;
}

/** Bucket rates per `le`, for heatmaps (Grafana reads them with format=heatmap). */
export function bucketRates(d: Histogram, o: HistogramOpts = {}): string {
  return sumRate(sel(bucket(d), ...(o.match ?? [])), ['le', ...(o.by ?? [])], o.window);
}

/** Mean of a histogram: sum / count. */
export function mean(d: Histogram, o: HistogramOpts = {}): string {
  const m = o.match ?? [];
  return `${sumRate(sel(sum(d), ...m), o.by, o.window)} / ${sumRate(sel(count(d), ...m), o.by, o.window)}`;
}

// The /metrics text, written faster than @opentelemetry/exporter-prometheus 0.223.0's
// PrometheusSerializer but byte for byte the same, for the options providers.ts gives the exporter
// (no prefix, no timestamps, no scope labels, no resource labels on series, target_info on).
// With every label at METRIC_LABEL_MAX_VALUES the library's serializer took ~90 % of a scrape: per
// sample line it re-sanitises every label name with two regular expressions, escapes every value
// with three, and copies the label object for each histogram bucket. Here each data point's label
// pairs are written once and reused for its _count, _sum and every _bucket line, label names are
// sanitised once per name, and values are escaped only when they hold a character that needs it.
// Each metric's lines are joined into one flat string: a rope of ~400,000 small strings (labels at
// their cross-product bound, 48 MB) costs the garbage collector more than the joins do.
// Anything this does not cover (an exponential histogram) goes to the library's serializer whole.
// test/telemetry/prometheus-text.test.ts holds the two outputs equal on the same collected data.
import { diag, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type Histogram, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** The library's own serializer, with the exporter's options (PrometheusExporter in providers.ts). */
export function librarySerializer(): PrometheusSerializer {
  return new PrometheusSerializer('', false, undefined, false, true);
}

/** Backslash and newline, as the library escapes HELP text and metric names. */
function escapeString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** A label value: strings as they are, other values as JSON, undefined as ''; then \\, \n and " escaped. */
function labelValue(v: AttributeValue | undefined): string {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Characters OTel allows in names but Prometheus does not become '_', runs of '_' one '_'. */
function sanitizeName(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
}

function valueString(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}

function prometheusType(metric: MetricData): string {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    default:
      return 'untyped';
  }
}

/** The sample name, or undefined (logged, as the library does) when nothing valid is left of it. */
function metricName(metric: MetricData): string | undefined {
  const original = metric.descriptor.name;
  let name = sanitizeName(escapeString(original));
  if (name === '') {
    diag.error(`Normalization for metric "${original}" resulted in empty name`);
    return undefined;
  }
  if (name === '_') {
    diag.error(`Normalization for metric "${original}" resulted in an invalid name: "_"`);
    return undefined;
  }
  if (name[0] !== undefined && name[0] >= '0' && name[0] <= '9') name = `_${name}`;
  if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic && !name.endsWith('_total')) {
    name += '_total';
  }
  return name;
}

export class PrometheusText {
  private readonly fallback = librarySerializer();
  /** Sanitised label names; the keys are the instruments' attribute names, a small fixed set. */
  private readonly labelNames = new Map<string, string>();

  serialize(resourceMetrics: ResourceMetrics): string {
    const metrics: MetricData[] = [];
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        const type = metric.dataPointType;
        if (type !== DataPointType.SUM && type !== DataPointType.GAUGE && type !== DataPointType.HISTOGRAM) {
          return this.fallback.serialize(resourceMetrics);
        }
        metrics.push(metric);
      }
    }
    let out = '';
    for (const metric of metrics) out += this.metric(metric);
    if (out === '') out = '# no registered metrics';
    const target = this.pairs(resourceMetrics.resource.attributes);
    return (
      '# HELP target_info Target metadata\n# TYPE target_info gauge\n' +
      `target_info${target === '' ? '' : `{${target}}`} 1\n${out}`
    );
  }

  /** `name="value",...` for these attributes, in their key order; '' for none. */
  private pairs(attributes: Attributes): string {
    let s = '';
    for (const key of Object.keys(attributes)) {
      let name = this.labelNames.get(key);
      if (name === undefined) {
        name = sanitizeName(key);
        if (this.labelNames.size < 1000) this.labelNames.set(key, name);
      }
      s += `${s === '' ? '' : ','}${name}="${labelValue(attributes[key])}"`;
    }
    return s;
  }

  /** The metric's HELP, UNIT and TYPE lines and its samples, each line ending in \n; '' if unnamed. */
  private metric(metric: MetricData): string {
    const name = metricName(metric);
    if (name === undefined) return '';
    const { description, unit } = metric.descriptor;
    const lines = [`# HELP ${name} ${escapeString(description || 'description missing')}\n`];
    if (unit) lines.push(`# UNIT ${name} ${escapeString(unit)}\n`);
    lines.push(`# TYPE ${name} ${prometheusType(metric)}\n`);
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      const bucketName = `${name}_bucket`;
      let lastBoundaries: readonly number[] | undefined;
      let le: string[] = [];
      for (const point of metric.dataPoints) {
        const pairs = this.pairs(point.attributes);
        const labels = pairs === '' ? '' : `{${pairs}}`;
        const h: Histogram = point.value;
        lines.push(`${name}_count${labels} ${valueString(h.count)}\n`);
        if (h.sum != null) lines.push(`${name}_sum${labels} ${valueString(h.sum)}\n`);
        const { boundaries, counts } = h.buckets;
        if (boundaries !== lastBoundaries) {
          lastBoundaries = boundaries;
          le = boundaries.map((b) => (b === Infinity ? '+Inf' : String(b)));
        }
        const open = `${bucketName}{${pairs === '' ? '' : `${pairs},`}le="`;
        let cumulative = 0;
        let infinityBound = false;
        for (let i = 0; i < counts.length; i++) {
          cumulative += counts[i] ?? 0;
          const bound = boundaries[i];
          if (bound === undefined && infinityBound) break;
          if (bound === Infinity) infinityBound = true;
          lines.push(`${open}${le[i] ?? '+Inf'}"} ${valueString(cumulative)}\n`);
        }
      }
    } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
      for (const point of metric.dataPoints) {
        const pairs = this.pairs(point.attributes);
        lines.push(`${name}${pairs === '' ? '' : `{${pairs}}`} ${valueString(point.value)}\n`);
      }
    }
    return lines.join('');
  }
}

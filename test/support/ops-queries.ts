// Every PromQL expression the ops bundle ships: dashboard targets and variable queries (from the
// generator in scripts/dashboards, which test/ops/dashboards.test.ts holds equal to dashboards/*.json)
// and alert rule expressions (alerts/voice-insights.rules.yml). Static checks against the metrics
// catalog, and evaluation against a real Prometheus scraping the exporter, so a query that does not
// parse or names a series we never emit fails a test instead of a dashboard. Reused by any test that
// drives traffic (fixtures, the simulator) and wants to know the bundle works on it.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { VariableType } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboards } from '../../scripts/dashboards/index.js';
import { CATALOG, type MetricDef } from '../../src/telemetry/catalog.js';
import { PrometheusApiError, type PrometheusHandle, type PromResult } from './prometheus.js';

export const RULES_FILE = 'alerts/voice-insights.rules.yml';
/** The scrape job name used by README, otel-collector.yaml and test/support/prometheus.ts. */
export const JOB = 'voice-insights-exporter';

// ---------------------------------------------------------------------------------------------
// Series names and expression analysis

/** Series name as exposed on /metrics -> its catalog row (counters as is, histograms _bucket/_sum/_count). */
export function catalogSeries(): Map<string, MetricDef> {
  const out = new Map<string, MetricDef>();
  for (const def of CATALOG) {
    if (def.kind === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) out.set(`${def.name}${suffix}`, def);
    else out.set(def.name, def);
  }
  return out;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'atan2',
]);

/**
 * Metric names an expression selects, in order of appearance (with repeats). A small scanner, not a
 * PromQL parser: strings, label matchers, ranges and grouping clauses are removed first; what is left
 * that is an identifier, not a keyword and not a function call, is a metric name.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const token = m[0];
    const before = stripped[(m.index ?? 0) - 1] ?? ' ';
    const after = stripped.slice((m.index ?? 0) + token.length).trimStart();
    if (/[0-9.$]/.test(before)) continue; // durations (5m), exponents, Grafana variables
    if (after.startsWith('(')) continue; // functions and aggregations
    if (KEYWORDS.has(token.toLowerCase())) continue;
    names.push(token);
  }
  return names;
}

/** Every `name{matchers}` selector of an expression. */
export function selectorsIn(expr: string): { name: string; matchers: string }[] {
  return [...expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({
    name: m[1] ?? '',
    matchers: m[2] ?? '',
  }));
}

/** Grafana's `label_values(selector, label)` as the PromQL that returns the same label values. */
export function labelValuesToPromQL(query: string): string {
  const m = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(query.trim());
  if (m === null) throw new Error(`not a label_values() query: ${query}`);
  return `count by (${m[2] ?? ''}) (${m[1] ?? ''})`;
}

/**
 * Problems with an expression against the catalog: no metric at all, names we never expose, `le`
 * matchers on a series that is not a histogram bucket or at a value that is not a bucket boundary
 * (such a cut silently matches nothing).
 */
export function exprProblems(expr: string): string[] {
  const series = catalogSeries();
  const problems: string[] = [];
  const names = metricNamesIn(expr);
  if (names.length === 0) problems.push('names no metric');
  for (const name of new Set(names)) if (!series.has(name)) problems.push(`names ${name}, which is not in the catalog`);
  for (const { name, matchers } of selectorsIn(expr)) {
    const le = /\ble="([^"]*)"/.exec(matchers)?.[1];
    if (le === undefined) continue;
    const def = series.get(name);
    if (def === undefined || !name.endsWith('_bucket')) {
      problems.push(`${name} has an le matcher but is not a histogram bucket series`);
    } else if (le !== '+Inf' && !(def.buckets ?? []).some((b) => String(b) === le)) {
      problems.push(`${name}{le="${le}"} is not a bucket boundary (${(def.buckets ?? []).join(', ')})`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The queries

export interface OpsQuery {
  kind: 'panel' | 'variable' | 'alert';
  /** Human-readable origin: dashboard / panel / refId, dashboard / $variable, or the alert name. */
  id: string;
  /** As shipped (dashboards keep Grafana variables; variable queries become PromQL). */
  expr: string;
  /** The traffic of the calling test should make this return at least one finite value. */
  expectData: boolean;
}

export interface AlertRule {
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A YAML scalar as text: strings as they are, numbers and booleans as written. */
const scalarText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const strings = (v: unknown): Record<string, string> =>
  isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};

/** The alerting rules of a rule file, in file order. */
export function loadAlertRules(file = RULES_FILE): AlertRule[] {
  const doc: unknown = parse(readFileSync(file, 'utf8'));
  if (!isRecord(doc) || !Array.isArray(doc['groups'])) throw new Error(`${file}: no groups`);
  const rules: AlertRule[] = [];
  for (const group of doc['groups'] as unknown[]) {
    if (!isRecord(group) || !Array.isArray(group['rules'])) throw new Error(`${file}: a group without rules`);
    for (const rule of group['rules'] as unknown[]) {
      if (!isRecord(rule) || typeof rule['alert'] !== 'string') continue;
      rules.push({
        group: String(group['name']),
        alert: rule['alert'],
        expr: String(rule['expr']).trim(),
        ...(rule['for'] === undefined ? {} : { for: scalarText(rule['for']) }),
        labels: strings(rule['labels']),
        annotations: strings(rule['annotations']),
      });
    }
  }
  return rules;
}

/** Every dashboard target and query variable, with the generator's expectData flags. */
export function dashboardQueries(): OpsQuery[] {
  return buildDashboards().flatMap((d) => {
    const panels = d.queries.map((q): OpsQuery => ({
      kind: 'panel',
      id: `${q.dashboard} / ${q.panel} / ${q.refId}`,
      expr: q.expr,
      expectData: q.expectData,
    }));
    const variables = (d.json.templating?.list ?? []).flatMap((v): OpsQuery[] =>
      v.type === VariableType.Query && typeof v.query === 'string'
        ? [{ kind: 'variable', id: `${d.uid} / $${v.name}`, expr: labelValuesToPromQL(v.query), expectData: true }]
        : [],
    );
    return [...variables, ...panels];
  });
}

/** Every alert expression; `expectData` lists the alerts the caller's traffic should trip. */
export function alertQueries(expectData: Iterable<string> = [], file = RULES_FILE): OpsQuery[] {
  const expected = new Set(expectData);
  const rules = loadAlertRules(file);
  for (const name of expected)
    if (!rules.some((r) => r.alert === name)) throw new Error(`no alert named ${name} in ${file}`);
  return rules.map((r) => ({ kind: 'alert', id: r.alert, expr: r.expr, expectData: expected.has(r.alert) }));
}

// ---------------------------------------------------------------------------------------------
// Evaluation against Prometheus

/**
 * Values for Grafana's variables when a dashboard query goes straight to Prometheus: the test job,
 * All (`.*`) for every filter, a 1m rate window (>= 4 scrape intervals of the tests' 1 s scrapes).
 */
export const DEFAULT_VARIABLES: Readonly<Record<string, string>> = {
  job: JOB,
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
  edge: '.*',
  region: '.*',
  codec: '.*',
  stream_direction: '.*',
  call_type: '.*',
  call_direction: '.*',
  instance: '.*',
  call_sid: '',
};

/** Replaces `$name` and `${name}`; throws on a variable without a value, so none slips through. */
export function substituteVariables(expr: string, vars: Readonly<Record<string, string>> = DEFAULT_VARIABLES): string {
  return expr.replace(
    /\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g,
    (_, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = vars[name];
      if (value === undefined) throw new Error(`no value for variable $${name} in ${expr}`);
      return value;
    },
  );
}

export interface OpsQueryResult extends OpsQuery {
  /** What was sent to Prometheus. */
  promql: string;
  /** Prometheus' error (parse or execution), if any. */
  error?: string;
  series: number;
  finite: number;
  /** No error, and data when expected. */
  ok: boolean;
}

function values(r: PromResult): number[] {
  switch (r.resultType) {
    case 'vector':
      return r.result.map((s) => Number(s.value[1]));
    case 'matrix':
      return r.result.flatMap((s) => s.values.map((v) => Number(v[1])));
    case 'scalar':
      return [Number(r.result[1])];
    case 'string':
      return [];
  }
}

/** Runs every query as an instant query at one moment (now by default) and reports each. */
export async function evaluateOpsQueries(
  prom: PrometheusHandle,
  queries: readonly OpsQuery[],
  opts: { variables?: Readonly<Record<string, string>>; timeSeconds?: number } = {},
): Promise<OpsQueryResult[]> {
  const at = opts.timeSeconds ?? Date.now() / 1000;
  const results: OpsQueryResult[] = [];
  for (const q of queries) {
    const promql = substituteVariables(q.expr, opts.variables ?? DEFAULT_VARIABLES);
    try {
      const r = await prom.query(promql, at);
      const v = values(r);
      const finite = v.filter((x) => Number.isFinite(x)).length;
      results.push({
        ...q,
        promql,
        series: r.resultType === 'vector' || r.resultType === 'matrix' ? r.result.length : 1,
        finite,
        ok: !q.expectData || finite > 0,
      });
    } catch (err) {
      if (!(err instanceof PrometheusApiError)) throw err;
      results.push({ ...q, promql, error: err.apiMessage, series: 0, finite: 0, ok: false });
    }
  }
  return results;
}

/** One line per failed query, for assertion messages. */
export function describeFailures(results: readonly OpsQueryResult[]): string {
  return results
    .filter((r) => !r.ok)
    .map(
      (r) =>
        `${r.kind} ${r.id}: ${r.error ?? `expected data, got ${r.series} series (${r.finite} finite)`}\n    ${r.promql}`,
    )
    .join('\n');
}

// Shared panel helpers over the Grafana Foundation SDK. Each helper returns the SDK builder together
// with its Prometheus queries and whether realistic traffic should make them return data
// (`expectData`), so test/support/ops-queries.ts can evaluate every query against a real Prometheus
// and know which empty answers are bugs.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DashboardLinkBuilder, DashboardLinkType, ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import { ReduceDataOptionsBuilder, VizLegendOptionsBuilder, VizTooltipOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import { BigValueColorMode, BigValueGraphMode, GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode, LegendDisplayMode, LegendPlacement, SortOrder, TooltipDisplayMode } from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as HeatmapPanel, YAxisConfigBuilder, HeatmapColorOptionsBuilder, HeatmapColorMode, HeatmapColorScale, CellValuesBuilder } from '@grafana/grafana-foundation-sdk/heatmap';
import { PanelBuilder as PieChartPanel, PieChartLegendOptionsBuilder, PieChartLegendValues, PieChartType } from '@grafana/grafana-foundation-sdk/piechart';
import { PanelBuilder as TextPanel, TextMode } from '@grafana/grafana-foundation-sdk/text';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { DataqueryBuilder as PromQueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { DataqueryBuilder as TempoQueryBuilder, SearchTableType } from '@grafana/grafana-foundation-sdk/tempo';

/** Datasource references resolved through the dashboard's template variables. */
export const PROMETHEUS_DS = { type: 'prometheus', uid: '${datasource}' } as const;
export const TRACING_DS = { type: 'tempo', uid: '${tracing}' } as const;

/** One PromQL target as written in the dashboard (with Grafana variables). */
export interface PromTarget {
  refId: string;
  expr: string;
  legend: string;
  /** Realistic traffic (test/ops/queries-prometheus.test.ts) makes this return at least one finite value. */
  expectData: boolean;
}

/** What a target helper takes; refIds are assigned in order (A, B, ...). */
export interface TargetSpec {
  expr: string;
  legend?: string;
  /** Overrides the panel's expectData for this one target. */
  expectData?: boolean;
}

export interface PanelDef {
  title: string;
  builder: cog.Builder<dashboard.Panel> & { id(id: number): unknown };
  targets: PromTarget[];
}

/** Common panel options. `unit` is a Grafana unit id (s, percentunit, short, reqps, ...). */
export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: TargetSpec[];
  /** Default for the targets: whether realistic traffic should populate them. Required, so each panel says. */
  expectData: boolean;
  /** Grid width (of 24) and height; 8 x 8 by default. */
  width?: number;
  height?: number;
  min?: number;
  max?: number;
  /** Threshold steps [value, color], the first one's value is the base (null). */
  thresholds?: readonly (readonly [number | null, string])[];
  links?: readonly PanelLink[];
}

export interface PanelLink {
  title: string;
  url: string;
}

const refId = (i: number): string => String.fromCharCode(65 + i);

function promTargets(spec: PanelSpec, format?: PromQueryFormat): { targets: PromTarget[]; builders: PromQueryBuilder[] } {
  const targets = spec.targets.map((t, i) => ({ refId: refId(i), expr: t.expr, legend: t.legend ?? '', expectData: t.expectData ?? spec.expectData }));
  const builders = targets.map((t) => {
    const b = new PromQueryBuilder().refId(t.refId).expr(t.expr).datasource(PROMETHEUS_DS).range();
    if (t.legend !== '') b.legendFormat(t.legend);
    if (format !== undefined) b.format(format);
    return b;
  });
  return { targets, builders };
}

function thresholds(steps: PanelSpec['thresholds']): ThresholdsConfigBuilder {
  const list = steps ?? [[null, 'green']];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(list.map(([value, color]) => ({ value, color })));
}

function links(spec: PanelSpec): DashboardLinkBuilder[] {
  return (spec.links ?? []).map((l) => new DashboardLinkBuilder(l.title).type(DashboardLinkType.Link).url(l.url).targetBlank(true));
}

interface CommonBuilder<T> {
  title(t: string): T;
  description(d: string): T;
  unit(u: string): T;
  datasource(d: { type: string; uid: string }): T;
  gridPos(g: dashboard.GridPos): T;
  thresholds(t: cog.Builder<dashboard.ThresholdsConfig>): T;
  links(l: cog.Builder<dashboard.DashboardLink>[]): T;
  min(m: number): T;
  max(m: number): T;
}

// Width and height only: the dashboard builder lays panels out left to right, row by row.
function common<T extends CommonBuilder<T>>(b: T, spec: PanelSpec): T {
  b.title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(PROMETHEUS_DS)
    .gridPos({ x: 0, y: 0, w: spec.width ?? 8, h: spec.height ?? 8 })
    .thresholds(thresholds(spec.thresholds));
  if (spec.min !== undefined) b.min(spec.min);
  if (spec.max !== undefined) b.max(spec.max);
  if (spec.links !== undefined) b.links(links(spec));
  return b;
}

/** A time series panel: one line per series, legend as a table-free list, shared tooltip. */
export function timeseries(spec: PanelSpec): PanelDef {
  const { targets, builders } = promTargets(spec);
  const b = common(new TimeseriesPanel(), spec)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .fillOpacity(10)
    .lineWidth(1)
    .spanNulls(false);
  if (spec.thresholds !== undefined) b.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Line));
  for (const t of builders) b.withTarget(t);
  return { title: spec.title, builder: b, targets };
}

/** A single-value panel (last value of the first series), colored by thresholds. */
export function stat(spec: PanelSpec): PanelDef {
  const { targets, builders } = promTargets(spec);
  const b = common(new StatPanel(), spec)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value);
  for (const t of builders) b.withTarget(t);
  return { title: spec.title, builder: b, targets };
}

/**
 * A heatmap of a Prometheus histogram: targets must be `sum by (le) (rate(..._bucket[...]))`,
 * read as buckets (format heatmap) rather than re-bucketed by Grafana.
 */
export function heatmap(spec: PanelSpec): PanelDef {
  const { targets, builders } = promTargets(spec, PromQueryFormat.Heatmap);
  const b = common(new HeatmapPanel(), spec)
    .calculate(false)
    .yAxis(new YAxisConfigBuilder().unit(spec.unit))
    .cellValues(new CellValuesBuilder().unit('short'))
    .color(new HeatmapColorOptionsBuilder().mode(HeatmapColorMode.Scheme).scheme('Oranges').scale(HeatmapColorScale.Exponential).exponent(0.5).fill('dark-orange').reverse(false).steps(64))
    .showLegend();
  for (const t of builders) {
    t.legendFormat('{{le}}');
    b.withTarget(t);
  }
  return { title: spec.title, builder: b, targets };
}

/** A pie chart of instant values, one slice per series. */
export function pie(spec: PanelSpec): PanelDef {
  const { targets, builders } = promTargets(spec);
  const b = common(new PieChartPanel(), spec)
    .pieType(PieChartType.Donut)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .legend(new PieChartLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Right).values([PieChartLegendValues.Value, PieChartLegendValues.Percent]));
  for (const t of builders) {
    t.instant();
    b.withTarget(t);
  }
  return { title: spec.title, builder: b, targets };
}

/** Markdown text without queries. Grafana interpolates template variables in it. */
export function text(title: string, markdown: string, width = 24, height = 8): PanelDef {
  // A unit all the same ('none'), so "every panel has a unit" holds without exceptions.
  const b = new TextPanel().title(title).unit('none').mode(TextMode.Markdown).content(markdown).gridPos({ x: 0, y: 0, w: width, h: height });
  return { title, builder: b, targets: [] };
}

/**
 * A trace search result from the tracing datasource (Tempo TraceQL), one row per trace; Grafana
 * links each trace id to its trace view. Not a Prometheus query, so it is not in `targets`.
 */
export function traceSearch(spec: { title: string; description: string; traceql: string; width?: number; height?: number; limit?: number }): PanelDef {
  const q = new TempoQueryBuilder().refId('A').datasource(TRACING_DS).queryType('traceql').query(spec.traceql).limit(spec.limit ?? 20).tableType(SearchTableType.Traces);
  const b = new TablePanel()
    .title(spec.title)
    .description(spec.description)
    .unit('none')
    .datasource(TRACING_DS)
    .gridPos({ x: 0, y: 0, w: spec.width ?? 12, h: spec.height ?? 8 })
    .withTarget(q);
  return { title: spec.title, builder: b, targets: [] };
}

/**
 * A Grafana Explore URL running a TraceQL query on the `tracing` datasource over the dashboard's time
 * range. Template variables stay literal (`${...}`) so Grafana substitutes them when the link is
 * clicked; everything else is URL-encoded.
 */
export function exploreTraces(traceql: string): string {
  const panes = {
    a: {
      datasource: '${tracing}',
      queries: [{ refId: 'A', datasource: TRACING_DS, queryType: 'traceql', query: traceql, limit: 20, tableType: 'traces' }],
      range: { from: '${__from}', to: '${__to}' },
    },
  };
  // encodeURIComponent leaves !'()* alone; parentheses would end a Markdown link early.
  const encoded = encodeURIComponent(JSON.stringify(panes)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `/explore?schemaVersion=1&panes=${encoded}`.replace(/%24%7B([A-Za-z0-9_:]+)%7D/g, '$${$1}');
}

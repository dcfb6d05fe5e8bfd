// Assembles a dashboard from sections of panels: shared variables (Prometheus datasource, scrape job,
// optionally the tracing datasource and a CallSid box), links between the dashboards, stable
// panel ids, and the list of every Prometheus query with its expectData flag for the ops tests.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { Dashboard, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  TextBoxVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { SELF_METRICS } from '../../src/telemetry/catalog.js';
import { PROMETHEUS_DS, type PanelDef } from './panels.js';
import { gauge, sel } from './promql.js';

/** Tag shared by the dashboards; the dashboard links menu lists them by it. */
export const DASHBOARD_TAG = 'voice-insights';

export interface Section {
  title: string;
  panels: PanelDef[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** File name under dashboards/. */
  file: string;
  /** Variables after `datasource` and `job`, in display order. */
  variables?: cog.Builder<VariableModel>[];
  sections: Section[];
}

/** One Prometheus target of a dashboard, as the ops tests evaluate it. */
export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  legend: string;
  expectData: boolean;
}

export interface BuiltDashboard {
  uid: string;
  file: string;
  json: Dashboard;
  queries: DashboardQuery[];
}

export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus');
}

/**
 * The scrape job(s) of the exporter. Multi-select with All, so several exporter deployments can be
 * viewed together; `.+` as the All value keeps `{job=~"$job"}` a valid non-empty matcher.
 */
export function jobVariable(): QueryVariableBuilder {
  return labelVariable('job', 'Job', `label_values(${gauge(SELF_METRICS.ready)}, job)`, '.+');
}

/** A filter over a label's values on the selected job(s); All matches every value, also missing ones. */
export function labelVariable(name: string, label: string, query: string, allValue = '.*'): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS_DS)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(allValue)
    .current({ selected: true, text: ['All'], value: ['$__all'] });
}

/** `label_values(metric{job=~"$job"}, label)` as a filter variable. */
export function filterVariable(name: string, label: string, metric: string): QueryVariableBuilder {
  return labelVariable(name, label, `label_values(${sel(metric)}, ${name})`);
}

/** The tracing datasource (Tempo) the call-level links open; Jaeger users change the type here. */
export function tracingVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('tracing').label('Traces').type('tempo');
}

/** A free-text CallSid; trace links and the trace panel use it. */
export function callSidVariable(): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder('call_sid').label('CallSid').description('A CallSid (CA + 32 hex digits); its trace id is the 32 hex digits, lowercased.');
}

export function buildDashboard(spec: DashboardSpec): BuiltDashboard {
  const b = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([DASHBOARD_TAG])
    .editable()
    .timezone('browser')
    .time({ from: 'now-3h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair)
    .link(
      new DashboardLinkBuilder('Voice Insights')
        .type(DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    )
    .withVariable(datasourceVariable())
    .withVariable(jobVariable());
  for (const v of spec.variables ?? []) b.withVariable(v);

  // Stable ids in layout order: Grafana keys panel state and links (viewPanel=N) by them.
  let id = 0;
  const queries: DashboardQuery[] = [];
  for (const section of spec.sections) {
    b.withRow(new RowBuilder(section.title).id(++id));
    for (const panel of section.panels) {
      panel.builder.id(++id);
      b.withPanel(panel.builder);
      for (const t of panel.targets) {
        queries.push({ dashboard: spec.uid, panel: panel.title, refId: t.refId, expr: t.expr, legend: t.legend, expectData: t.expectData });
      }
    }
  }
  const json = b.build();
  for (const link of [...(json.links ?? []), ...(json.panels ?? []).flatMap((p) => ('links' in p ? (p.links ?? []) : []))]) {
    // The SDK defaults every link to placement "inControlsMenu", which hides it in a menu on
    // Grafana 12.4+ and means nothing to older versions; links belong in plain sight.
    delete link.placement;
  }
  return { uid: spec.uid, file: spec.file, json, queries };
}

/** The committed form: two-space JSON with a trailing newline, so diffs stay readable. */
export function renderDashboard(d: BuiltDashboard): string {
  return `${JSON.stringify(d.json, null, 2)}\n`;
}

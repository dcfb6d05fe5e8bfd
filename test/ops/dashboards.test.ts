// The committed dashboards are exactly what scripts/dashboards generates, and every query in them
// names only series the catalog exposes, is scoped to $job, uses Grafana's rate windows, and every
// panel has a unit. Whether each query parses and returns data is queries-prometheus.test.ts's job.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DashboardLinkType } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARDS_DIR, buildDashboards, renderDashboard } from '../../scripts/dashboards/index.js';
import { TWILIO_THRESHOLDS } from '../../scripts/dashboards/promql.js';
import { CALL_METRICS, CONFERENCE_METRICS, SELF_METRICS } from '../../src/telemetry/catalog.js';
import { exprProblems, labelValuesToPromQL, metricNamesIn, selectorsIn } from '../support/ops-queries.js';

const built = buildDashboards();

interface JsonPanel {
  id?: number;
  type: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { refId?: string; expr?: string; query?: string; datasource?: { type?: string; uid?: string } }[];
  links?: { title: string; url?: string }[];
  options?: { content?: string };
}

interface JsonVariable {
  type: string;
  name: string;
  query?: unknown;
  datasource?: { type?: string; uid?: string };
}

interface JsonDashboard {
  uid: string;
  panels: JsonPanel[];
  templating: { list: JsonVariable[] };
}

const committed = (file: string): string => readFileSync(join(DASHBOARDS_DIR, file), 'utf8');
const parsed = (file: string): JsonDashboard => JSON.parse(committed(file)) as JsonDashboard;
const promTargets = (d: JsonDashboard) =>
  d.panels.flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => t.expr !== undefined)
      .map((t) => ({ panel: p.title ?? '', refId: t.refId ?? '', expr: t.expr ?? '', datasource: t.datasource })),
  );

test('dashboards/*.json are what the generator produces (regenerate with `npm run dashboards`)', () => {
  assert.deepEqual(
    readdirSync(DASHBOARDS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort(),
    built.map((d) => d.file).sort(),
  );
  for (const d of built)
    assert.equal(committed(d.file), renderDashboard(d), `${d.file} is stale: run npm run dashboards`);
});

test('the dashboards of DESIGN section 7 and the conferences one (issue 14), each tagged and linked to the others', () => {
  assert.deepEqual(
    built.map((d) => d.uid),
    [
      'voice-insights-call-quality',
      'voice-insights-calls',
      'voice-insights-conferences',
      'voice-insights-exporter-health',
    ],
  );
  for (const d of built) {
    const links = (d.json.links ?? []).filter((l) => l.type === DashboardLinkType.Dashboards);
    assert.ok(
      links.some((l) => l.tags.includes('voice-insights') && l.includeVars && l.keepTime),
      `${d.uid} links the others, keeping variables and time`,
    );
    assert.ok((d.json.tags ?? []).includes('voice-insights'), `${d.uid} tagged`);
  }
});

test("Twilio's thresholds are exact bucket boundaries of their histograms", () => {
  const pairs = [
    [TWILIO_THRESHOLDS.jitterSeconds, CALL_METRICS.intervalJitter.buckets],
    [TWILIO_THRESHOLDS.lossRatio, CALL_METRICS.intervalLoss.buckets],
    [TWILIO_THRESHOLDS.mos, CALL_METRICS.intervalMos.buckets],
    [TWILIO_THRESHOLDS.rttSeconds, CALL_METRICS.intervalRtt.buckets],
    [TWILIO_THRESHOLDS.jitterSeconds, CALL_METRICS.callJitter.buckets],
    [TWILIO_THRESHOLDS.lossRatio, CALL_METRICS.callPacketLoss.buckets],
    [TWILIO_THRESHOLDS.mos, CALL_METRICS.callMos.buckets],
    [TWILIO_THRESHOLDS.jitterSeconds, CONFERENCE_METRICS.participantJitter.buckets],
    [TWILIO_THRESHOLDS.lossRatio, CONFERENCE_METRICS.participantPacketLoss.buckets],
    [TWILIO_THRESHOLDS.mos, CONFERENCE_METRICS.participantMos.buckets],
  ] as const;
  for (const [threshold, buckets] of pairs)
    assert.ok((buckets as readonly number[]).includes(threshold), `${threshold} in ${buckets.join(', ')}`);
});

for (const d of built) {
  describe(d.file, () => {
    const json = parsed(d.file);

    test('has a Prometheus datasource variable and a job variable over the exporter', () => {
      const ds = json.templating.list.find((v) => v.name === 'datasource');
      assert.equal(ds?.type, 'datasource');
      assert.equal(ds?.query, 'prometheus');
      const job = json.templating.list.find((v) => v.name === 'job');
      assert.equal(job?.type, 'query');
      assert.equal(job?.datasource?.uid, '${datasource}');
      assert.match(String(job?.query), /^label_values\(voice_insights_exporter_ready, job\)$/);
    });

    test('every query variable names only catalog series', () => {
      for (const v of json.templating.list.filter((x) => x.type === 'query')) {
        const promql = labelValuesToPromQL(String(v.query));
        assert.deepEqual(exprProblems(promql), [], `$${v.name}: ${promql}`);
        if (v.name !== 'job')
          assert.ok(
            selectorsIn(promql).every((s) => s.matchers.includes('job=~"$job"')),
            `$${v.name} is scoped to $job`,
          );
      }
    });

    test('every panel has a unit, a unique id and fits the 24-column grid', () => {
      const ids = new Set<number>();
      for (const p of json.panels) {
        assert.ok(p.id !== undefined && !ids.has(p.id), `unique id for ${p.title}`);
        ids.add(p.id);
        assert.ok(p.gridPos !== undefined && p.gridPos.x + p.gridPos.w <= 24, `${p.title} within the grid`);
        if (p.type === 'row') continue;
        const unit = p.fieldConfig?.defaults?.unit;
        assert.ok(typeof unit === 'string' && unit !== '', `${p.title} (${p.type}) has a unit`);
      }
    });

    test('every Prometheus target names only catalog series, each selector scoped to $job', () => {
      const targets = promTargets(json);
      assert.ok(targets.length > 0);
      for (const t of targets) {
        const where = `${t.panel} / ${t.refId}: ${t.expr}`;
        assert.deepEqual(exprProblems(t.expr), [], where);
        const selectors = selectorsIn(t.expr);
        assert.equal(selectors.length, metricNamesIn(t.expr).length, `every metric has a selector: ${where}`);
        assert.ok(
          selectors.every((s) => s.matchers.split(',').includes('job=~"$job"')),
          `every selector has job=~"$job": ${where}`,
        );
        assert.equal(t.datasource?.uid, '${datasource}', where);
      }
    });

    test("rate windows are Grafana's ($__rate_interval, or $__range for whole-range stats)", () => {
      for (const t of promTargets(json)) {
        for (const m of t.expr.matchAll(/\[([^\]]*)\]/g))
          assert.ok(['$__rate_interval', '$__range'].includes(m[1] ?? ''), `${t.panel}: window ${m[0]}`);
        assert.ok(
          /\b(rate|increase)\(/.test(t.expr) || !/_total\b|_bucket\b|_count\b|_sum\b/.test(t.expr),
          `${t.panel}: counters only through rate()/increase(): ${t.expr}`,
        );
      }
    });

    test('with several replicas, gauges are folded per instance (max without instance), never added over replicas', () => {
      // Every replica on the shared store reports the same calls in flight and trace queue, and each
      // sees the same active calls: a plain sum() over replicas would count them once per replica.
      const gauges = [
        SELF_METRICS.callsInFlight,
        SELF_METRICS.traceQueue,
        SELF_METRICS.dedupIds,
        CALL_METRICS.activeCalls,
      ];
      for (const t of promTargets(json)) {
        for (const g of gauges) {
          if (!metricNamesIn(t.expr).includes(g.name)) continue;
          assert.ok(
            t.expr.includes('max without (instance) (') || /\bby \(instance\)/.test(t.expr),
            `${t.panel}: ${g.name} folded per instance or shown per instance: ${t.expr}`,
          );
        }
      }
    });

    test("the generator's query list (with expectData) is exactly the dashboard's Prometheus targets", () => {
      assert.deepEqual(
        d.queries.map((q) => [q.panel, q.refId, q.expr]),
        promTargets(json).map((t) => [t.panel, t.refId, t.expr]),
      );
    });

    test('targets that are not Prometheus use the tracing datasource variable', () => {
      for (const p of json.panels) {
        for (const t of (p.targets ?? []).filter((x) => x.expr === undefined)) {
          assert.equal(t.datasource?.uid, '${tracing}', p.title);
          assert.ok(
            json.templating.list.some((v) => v.name === 'tracing' && v.type === 'datasource'),
            'tracing variable defined',
          );
        }
      }
    });
  });
}

test('call-level views link to the tracing datasource by CallSid', () => {
  const calls = parsed('calls.json');
  const tracing = calls.templating.list.find((v) => v.name === 'tracing');
  assert.equal(tracing?.type, 'datasource');
  assert.ok(calls.templating.list.some((v) => v.name === 'call_sid' && v.type === 'textbox'));
  const text = calls.panels.find((p) => p.type === 'text')?.options?.content ?? '';
  assert.match(text, /trace id is the CallSid's 32 hex digits, lowercased/);
  assert.match(
    text,
    /\/explore\?schemaVersion=1&panes=[^)]*\$\{tracing\}[^)]*\$\{call_sid\}/,
    'an Explore link for the CallSid on ${tracing}',
  );
  const perCall = calls.panels.filter((p) => p.type !== 'row' && (p.title ?? '').startsWith('Per-call'));
  assert.equal(perCall.length, 3);
  for (const p of perCall)
    assert.ok(
      (p.links ?? []).some((l) => (l.url ?? '').includes('${tracing}')),
      `${p.title} links to traces`,
    );
  // The Explore link's query decodes to TraceQL on the CallSid attribute the root span carries.
  const url = /\((\/explore\?[^)]*)\)/.exec(text)?.[1] ?? '';
  const panes = JSON.parse(new URL(url, 'http://grafana').searchParams.get('panes') ?? '{}') as {
    a: { queries: { query: string }[] };
  };
  assert.equal(panes.a.queries[0]?.query, '{ span.twilio.call_sid = "${call_sid}" }');
});

test('conference views link to the tracing datasource by ConferenceSid, and explain the links to each leg', () => {
  const conferences = parsed('conferences.json');
  assert.equal(conferences.templating.list.find((v) => v.name === 'tracing')?.type, 'datasource');
  assert.ok(conferences.templating.list.some((v) => v.name === 'conference_sid' && v.type === 'textbox'));
  const text = conferences.panels.find((p) => p.type === 'text')?.options?.content ?? '';
  assert.match(text, /trace id is the ConferenceSid's 32 hex digits, lowercased/);
  assert.match(text, /span link to its leg's call trace/);
  const url = /\((\/explore\?[^)]*\$\{conference_sid\}[^)]*)\)/.exec(text)?.[1] ?? '';
  assert.match(url, /\$\{tracing\}/, 'an Explore link for the ConferenceSid on ${tracing}');
  const panes = JSON.parse(new URL(url, 'http://grafana').searchParams.get('panes') ?? '{}') as {
    a: { queries: { query: string }[] };
  };
  assert.equal(
    panes.a.queries[0]?.query,
    '{ name = "twilio.voice.conference" && span.twilio.conference_sid = "${conference_sid}" }',
  );
  // The trace search panel runs the same TraceQL on ${tracing}.
  const search = conferences.panels.find((p) => p.title === 'Trace of the ConferenceSid above');
  assert.equal(search?.targets?.[0]?.datasource?.uid, '${tracing}');
  assert.equal(search?.targets?.[0]?.query, panes.a.queries[0]?.query);
});

test('the conference panels show the shares the conference alert rules page on', () => {
  const exprs = promTargets(parsed('conferences.json')).map((t) => t.expr);
  for (const tag of ['start_failure', 'quality_warnings'])
    assert.ok(
      exprs.some((e) => e.includes(`twilio_voice_conference_tags_total{job=~"$job",tag="${tag}"}`)),
      `a panel on the ${tag} share`,
    );
  assert.ok(
    exprs.some((e) => e.includes('by (status, end_reason)')),
    'conferences by status and end reason',
  );
});

// Proves test/support/prometheus.ts against the real Debian binaries: promtool accepts good and
// rejects bad exposition text, and a real Prometheus scrapes a local endpoint and answers PromQL
// (instant values, histogram_quantile over `le` buckets, rate, alerts from a rule file).
// Missing binaries FAIL these tests with the install hint: a skipped format check proves nothing.
import { test, describe, beforeAll, afterAll } from '@jest/globals';
import assert from '../support/assert.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  INSTALL_HINT,
  PrometheusApiError,
  prometheusAvailable,
  promtoolAvailable,
  promtoolCheckMetrics,
  resultValues,
  startPrometheus,
  type PromResult,
  type PrometheusHandle,
} from '../support/prometheus.js';

const VALID = `# HELP demo_events_total Events received.
# TYPE demo_events_total counter
demo_events_total{family="summary"} 42
# HELP demo_latency_seconds Processing latency.
# TYPE demo_latency_seconds histogram
demo_latency_seconds_bucket{le="1"} 1
demo_latency_seconds_bucket{le="2"} 3
demo_latency_seconds_bucket{le="4"} 4
demo_latency_seconds_bucket{le="+Inf"} 4
demo_latency_seconds_sum 6.5
demo_latency_seconds_count 4
`;

describe('promtool check metrics', () => {
  beforeAll(() => {
    assert.ok(promtoolAvailable(), `promtool is required for these tests: ${INSTALL_HINT}`);
  });

  test('accepts a valid exposition with a _total counter and an le-bucketed histogram, with no lint output', async () => {
    const r = await promtoolCheckMetrics(VALID);
    assert.deepEqual(r, { ok: true, exitCode: 0, output: '' });
  });

  test('rejects a sample with a non-numeric value, quoting the parser error', async () => {
    const r = await promtoolCheckMetrics(
      VALID.replace('demo_events_total{family="summary"} 42', 'demo_events_total{family="summary"} forty-two'),
    );
    assert.equal(r.ok, false);
    assert.equal(r.exitCode, 1);
    assert.match(r.output, /expected float as value/);
  });

  test('rejects a duplicate TYPE line', async () => {
    const r = await promtoolCheckMetrics(`${VALID}# TYPE demo_events_total counter\n`);
    assert.equal(r.ok, false);
    assert.match(r.output, /second TYPE line/);
  });

  test('reports lint problems (counter without _total, no HELP) with their own exit code', async () => {
    const r = await promtoolCheckMetrics('# TYPE demo_events counter\ndemo_events 1\n');
    assert.equal(r.ok, false);
    assert.equal(r.exitCode, 3);
    assert.match(r.output, /should have "_total" suffix/);
    assert.match(r.output, /no help text/);
  });
});

describe('startPrometheus against a real Prometheus', () => {
  let server: Server | undefined;
  let prom: PrometheusHandle | undefined;
  let ruleDir: string | undefined;
  let scrapes = 0;
  let startupMs = 0;

  beforeAll(async () => {
    assert.ok(prometheusAvailable(), `prometheus is required for these tests: ${INSTALL_HINT}`);
    // Fixed exposition plus a histogram that grows by the same distribution on every scrape, so a
    // rate()-based quantile has a known answer too.
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      scrapes++;
      const n = scrapes;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(
        `${VALID}# HELP demo_growing_seconds Grows per scrape.
# TYPE demo_growing_seconds histogram
demo_growing_seconds_bucket{le="1"} ${1 * n}
demo_growing_seconds_bucket{le="2"} ${3 * n}
demo_growing_seconds_bucket{le="4"} ${4 * n}
demo_growing_seconds_bucket{le="+Inf"} ${4 * n}
demo_growing_seconds_sum ${6.5 * n}
demo_growing_seconds_count ${4 * n}
`,
      );
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;

    ruleDir = await mkdtemp(join(tmpdir(), 'vie-rules-'));
    const ruleFile = join(ruleDir, 'alerts.yml');
    await writeFile(
      ruleFile,
      `groups:
  - name: demo
    rules:
      - alert: DemoEventsSeen
        expr: demo_events_total > 40
        labels:
          severity: info
        annotations:
          summary: "{{ $value }} events"
`,
    );

    const t0 = Date.now();
    prom = await startPrometheus({ targets: [`127.0.0.1:${port}`], ruleFiles: [ruleFile] });
    startupMs = Date.now() - t0;
  });

  afterAll(async () => {
    await prom?.stop();
    await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
    if (ruleDir !== undefined) await rm(ruleDir, { recursive: true, force: true });
  });

  const vectorIs = (expected: number) => (r: PromResult) => {
    const v = resultValues(r);
    return v.length === 1 && v[0] === expected;
  };

  test('becomes ready, scrapes the target (up == 1) and returns the served counter value', async () => {
    assert.ok(prom);
    const t0 = Date.now();
    await prom.waitForQuery('up{job="voice-insights-exporter"} == 1', vectorIs(1), 15_000);
    const firstScrapeMs = Date.now() - t0;
    assert.equal(await prom.targetsUp(), true);
    const r = await prom.waitForQuery('demo_events_total{family="summary"}', vectorIs(42), 15_000);
    assert.equal(r.resultType, 'vector');
    if (r.resultType === 'vector') {
      assert.equal(r.result[0]?.metric['job'], 'voice-insights-exporter');
      assert.equal(r.result[0]?.metric['family'], 'summary');
    }
    // Timings for the record (the brief asks how long start + first scrape take here).
    console.log(`# prometheus ready in ${startupMs} ms; first successful scrape ${firstScrapeMs} ms after ready`);
  });

  test('histogram_quantile over the served le buckets interpolates as expected', async () => {
    assert.ok(prom);
    // rank 0.5*4 = 2 falls in (1,2] holding counts 1..3: 1 + (2-1)*(2-1)/(3-1) = 1.5
    const r = await prom.waitForQuery(
      'histogram_quantile(0.5, demo_latency_seconds_bucket)',
      (x) => resultValues(x).length === 1,
      15_000,
    );
    assert.deepEqual(resultValues(r), [1.5]);
  });

  test('histogram_quantile over rate() of a growing histogram gives the same answer', async () => {
    assert.ok(prom);
    // Needs two scrapes inside the window; every bucket shares timestamps, so extrapolation
    // scales them alike and the quantile stays 1.5 up to float rounding.
    const r = await prom.waitForQuery(
      'histogram_quantile(0.5, sum by (le) (rate(demo_growing_seconds_bucket[1m])))',
      (x) => {
        const v = resultValues(x);
        return v.length === 1 && Number.isFinite(v[0]);
      },
      15_000,
    );
    const [v] = resultValues(r);
    assert.ok(v !== undefined && Math.abs(v - 1.5) < 1e-9, `quantile ${v}`);
  });

  test('queryRange returns a matrix', async () => {
    assert.ok(prom);
    const now = Date.now() / 1000;
    const r = await prom.queryRange('demo_events_total', now - 30, now, 1);
    assert.equal(r.resultType, 'matrix');
    if (r.resultType === 'matrix') {
      assert.equal(r.result.length, 1);
      assert.ok(r.result[0]?.values.every(([, v]) => v === '42'));
    }
  });

  test('invalid PromQL fails at once with Prometheus own parse error', async () => {
    assert.ok(prom);
    const t0 = Date.now();
    await assert.rejects(
      prom.waitForQuery('sum(demo_events_total', () => true, 10_000),
      (err: unknown) =>
        err instanceof PrometheusApiError && err.errorType === 'bad_data' && /parse error/.test(err.message),
    );
    assert.ok(Date.now() - t0 < 2000, 'bad PromQL must not be retried until the timeout');
  });

  test('alerts from a rule file fire and are listed by alerts()', async () => {
    assert.ok(prom);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const alerts = await prom.alerts();
      const a = alerts.find((x) => x.labels['alertname'] === 'DemoEventsSeen');
      if (a?.state === 'firing') {
        assert.equal(a.labels['severity'], 'info');
        assert.equal(a.annotations['summary'], '42 events');
        break;
      }
      assert.ok(Date.now() < deadline, `alert never fired: ${JSON.stringify(alerts)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const groups = await prom.rules();
    assert.equal(groups[0]?.rules[0]?.health, 'ok');
  });

  test('stop() terminates the process and removes its temp dir', async () => {
    assert.ok(prom);
    const { pid, dir } = prom;
    await prom.stop();
    assert.throws(
      () => process.kill(pid, 0),
      (err: NodeJS.ErrnoException) => err.code === 'ESRCH',
      `prometheus pid ${pid} still alive`,
    );
    await assert.rejects(access(dir), 'temp dir removed');
    await prom.stop(); // idempotent
  });
});

// The /metrics text users and Prometheus read, for a fixed sequence of fixture events, compared with
// test/golden/metrics.prom. Regenerate deliberately with `UPDATE_GOLDEN=1 npm run jest -- golden-metrics`.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { ManualClock } from '../../src/clock.js';
import { listFixtures, loadFixtureEvents } from '../support/fixtures.js';
import { startExporter } from '../support/harness.js';
import { INSTALL_HINT, promtoolAvailable, promtoolCheckMetrics } from '../support/prometheus.js';

const GOLDEN = new URL('../golden/metrics.prom', import.meta.url);
const VOLATILE = /^(voice_insights_exporter_webhook_request_duration_seconds_(?:bucket|sum)\{[^}]*\}) \S+$/;

/** Timing-dependent values and the package version are the only parts that may differ between runs. */
export function normalise(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line.replace(VOLATILE, '$1 <volatile>').replace(/service_version="[^"]*"/, 'service_version="<version>"'),
    )
    .join('\n');
}

test('golden /metrics for all valid fixtures (complete summaries finalise their calls); promtool finds nothing to complain about', async () => {
  assert.ok(promtoolAvailable(), INSTALL_HINT);
  // A fixed clock makes event lag and active calls deterministic: one hour after the fixtures' calls.
  const h = await startExporter({}, { clock: new ManualClock(Date.UTC(2025, 2, 14, 16, 0, 0)) });
  try {
    const fixtures = listFixtures().filter((f) => !f.startsWith('invalid/'));
    for (const f of fixtures) assert.equal((await h.post(loadFixtureEvents(f))).status, 200, f);
    const text = await h.scrape();
    const lint = await promtoolCheckMetrics(text);
    assert.equal(lint.output, '', 'promtool check metrics output');
    assert.ok(lint.ok);
    const actual = normalise(text);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, actual);
    assert.equal(actual, readFileSync(GOLDEN, 'utf8'), 'run with UPDATE_GOLDEN=1 to accept a deliberate change');
  } finally {
    await h.stop();
  }
});

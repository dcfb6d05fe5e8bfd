// The README stays true: its metrics table is the catalog's, and its curl example really signs.
import { test } from '@jest/globals';
import assert from './support/assert.js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { replaceMetricsTable } from '../scripts/metrics-table.js';
import { startExporter, TEST_TOKEN } from './support/harness.js';

const readme = readFileSync('README.md', 'utf8');

test('the README metrics table matches the catalog (regenerate with `npm run docs`)', () => {
  assert.equal(readme, replaceMetricsTable(readme));
});

test('the README curl example signs a fixture the way the exporter verifies it', async () => {
  const block = /<!-- curl-example[^>]*-->\s*```bash\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'curl example present');
  const h = await startExporter({ PUBLIC_URL: 'http://localhost:8080/events' });
  try {
    // The exporter listens on an ephemeral port; the signature is for the public URL as in the README.
    const script = block
      .replaceAll('my-test-token', TEST_TOKEN)
      .replace(/curl -sS "\$SIGNED_URL"/, `curl -sS "${h.webhookUrl}?\${SIGNED_URL#*\\?}"`);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script]);
    assert.deepEqual(JSON.parse(stdout), { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 0 });
  } finally {
    await h.stop();
  }
});

test('a newcomer reads set-up before reference: Quick start, Twilio set-up, scrape config and dashboards come before the reference tables and the runbook', () => {
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1] ?? '');
  const at = (name: string) => {
    const i = headings.indexOf(name);
    assert.ok(i >= 0, `README has a "## ${name}" section`);
    return i;
  };
  const setUp = ['Quick start', 'Twilio set-up', 'Prometheus scrape config', 'Dashboards'].map(at);
  assert.deepEqual(
    setUp,
    [...setUp].sort((a, b) => a - b),
    'set-up sections in reading order',
  );
  const lastSetUp = Math.max(...setUp);
  for (const reference of ['Webhook behaviour', 'Configuration', 'Metrics', 'Alert runbook'])
    assert.ok(at(reference) > lastSetUp, `"${reference}" comes after the set-up sections`);
});

test('the Quick start says next to `npm test` which system tools the tests need', () => {
  const quickStart = readme.slice(
    readme.indexOf('## Quick start'),
    readme.indexOf('\n## ', readme.indexOf('## Quick start') + 3),
  );
  const line = quickStart.split('\n').find((l) => l.startsWith('npm test'));
  assert.ok(line, 'a line starting with `npm test` in the Quick start');
  assert.match(line, /promtool/);
});

test('the command line the README shows works in a checkout: `npx voice-insights-exporter`', async () => {
  assert.match(readme, /`npx voice-insights-exporter <command>`/);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const { stdout } = await promisify(execFile)('npx', ['--no-install', 'voice-insights-exporter', '--version']);
  assert.equal(stdout.trim(), pkg.version);
});

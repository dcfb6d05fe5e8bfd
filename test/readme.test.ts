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

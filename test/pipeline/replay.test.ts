import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readReplayText, replayFile } from '../../src/pipeline/replay.js';
import { DEAD_LETTER_FILE } from '../../src/store/dead-letter.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startExporter } from '../support/harness.js';

const metric = loadFixtureEvents('call-metrics/sdk-edge-one-second-sample.json')[0];
const summary = loadFixtureEvents('call-summary/complete-carrier-call.json')[0];

test('reads a JSON array, JSON lines of events or of Twilio bodies, and dead-letter lines', () => {
  assert.deepEqual(readReplayText(JSON.stringify([metric, summary])).elements, [metric, summary]);
  assert.deepEqual(readReplayText(`${JSON.stringify(metric)}\n\n${JSON.stringify(summary)}\n`).elements, [
    metric,
    summary,
  ]);
  assert.deepEqual(readReplayText(`${JSON.stringify([metric])}\n${JSON.stringify([summary])}\n`).elements, [
    metric,
    summary,
  ]);
  const dead = {
    received_at: '2026-11-24T00:00:00.000Z',
    reason: 'schema',
    id: 'EZ1',
    type: 't',
    issues: [],
    event: metric,
  };
  const omitted = {
    received_at: '2026-11-24T00:00:00.000Z',
    reason: 'schema',
    id: 'EZ2',
    type: 't',
    issues: [],
    event_omitted: 'too large',
  };
  const r = readReplayText(`${JSON.stringify(dead)}\n${JSON.stringify(omitted)}\nnot json\n`);
  assert.deepEqual(r.elements, [metric]);
  assert.equal(r.unreadable, 2);
});

test('a dead-letter file replays through the pipeline once its events are fixed; dedup still applies', async () => {
  const h = await startExporter();
  try {
    const bad = structuredClone(metric) as { id: string; data: { sdk_edge: { interval: { jitter: unknown } } } };
    bad.id = 'EZ0000000000000000000000000000dd01';
    bad.data.sdk_edge.interval.jitter = { value: 'nine' };
    assert.deepEqual((await h.post([bad])).json, { accepted: 0, duplicate: 0, invalid: 1, unknown_type: 0 });
    // The operator fixes the stored event and replays the file under a new id (the old one is remembered as seen).
    const letters = (await readFile(join(h.dataDir, DEAD_LETTER_FILE), 'utf8'))
      .replace('"nine"', '9')
      .replaceAll('dd01', 'dd02');
    const dir = await mkdtemp(join(tmpdir(), 'replay-'));
    const file = join(dir, 'fixed.jsonl');
    await writeFile(file, letters + letters);
    const report = await replayFile(file, h.app.ingest, () => Date.now());
    assert.deepEqual(report, { accepted: 1, duplicate: 1, invalid: 0, unknown_type: 0, unreadable: 0 });
  } finally {
    await h.stop();
  }
});

// Webhook limits and tolerance over real HTTP on loopback, signed as Twilio signs: the per-request
// element cap (MAX_EVENTS_PER_REQUEST -> 413 before any element is examined) and events whose `data`
// cannot be decoded (a schema failure of that event, dead-lettered under 2xx, never a 400 for the delivery).
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEAD_LETTER_FILE } from '../../src/store/dead-letter.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startExporter, type Harness } from '../support/harness.js';
import { sampleValue } from '../support/prom.js';

const CAP = 5;
const SINK_TEST = 'com.twilio.eventstreams.test-event';
const PARTIAL = 'com.twilio.voice.insights.call-summary.partial';

function one(rel: string): Record<string, unknown> {
  const [first] = loadFixtureEvents(rel);
  assert.ok(first !== undefined, `${rel} holds an event`);
  return first;
}

const sinkTests = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({
    ...one('test-event/sink-test.json'),
    id: `EZ${prefix}${String(i).padStart(4, '0')}`,
  }));

async function deadLetters(h: Harness): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(h.dataDir, DEAD_LETTER_FILE), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('MAX_EVENTS_PER_REQUEST', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startExporter({ MAX_EVENTS_PER_REQUEST: String(CAP) });
  });
  afterAll(() => h.stop());

  test('cap + 1 elements is 413 too_many_events and nothing in it is examined or counted', async () => {
    const res = await h.post(sinkTests(CAP + 1, 'a'));
    assert.equal(res.status, 413);
    assert.deepEqual((res.json as { error: string }).error, 'too_many_events');
    const text = await h.scrape();
    assert.equal(sampleValue(text, 'voice_insights_exporter_webhook_requests_total', { code: '413' }), 1);
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_events_total', { type: SINK_TEST, outcome: 'accepted' }),
      0,
    );
  });

  test('cap + 1 empty objects is 413 too, without a dead letter for any of them', async () => {
    const res = await h.post(Array.from({ length: CAP + 1 }, () => ({})));
    assert.equal(res.status, 413);
    assert.deepEqual(await deadLetters(h), []);
  });

  test('exactly cap elements is 200 with every one accepted', async () => {
    const res = await h.post(sinkTests(CAP, 'b'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: CAP, duplicate: 0, invalid: 0, unknown_type: 0 });
    const text = await h.scrape();
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_events_total', { type: SINK_TEST, outcome: 'accepted' }),
      CAP,
    );
  });
});

describe('an event whose data is an array (valid id and type)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startExporter();
  });
  afterAll(() => h.stop());

  const arrayData = (id: string) => ({ ...one('invalid/call-summary-data-is-array.json'), id });
  const good = (id: string) => ({ ...one('call-metrics/sdk-edge-one-second-sample.json'), id });

  test('next to a good event: 200, the good one accepted, the bad one invalid and dead-lettered as a schema failure', async () => {
    const res = await h.post([
      good('EZ1a000000000000000000000000000001'),
      arrayData('EZ1a000000000000000000000000000002'),
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 1, duplicate: 0, invalid: 1, unknown_type: 0 });
    const letters = await deadLetters(h);
    assert.equal(letters.length, 1);
    const [letter] = letters;
    assert.equal(letter?.['id'], 'EZ1a000000000000000000000000000002');
    assert.equal(letter?.['reason'], 'schema');
    assert.equal(letter?.['type'], PARTIAL);
    assert.deepEqual(
      (letter?.['issues'] as { path: string }[]).map((i) => i.path),
      ['data'],
    );
    const text = await h.scrape();
    assert.equal(sampleValue(text, 'voice_insights_exporter_events_total', { type: PARTIAL, outcome: 'invalid' }), 1);
    assert.equal(sampleValue(text, 'voice_insights_exporter_dead_letters_total', { reason: 'schema' }), 1);
    assert.equal(sampleValue(text, 'voice_insights_exporter_dead_letters_total', { reason: 'envelope' }), 0);
  });

  test('alone: 200 with the event counted invalid (a 400 would make Twilio drop the delivery)', async () => {
    const res = await h.post([arrayData('EZ1a000000000000000000000000000003')]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 0, duplicate: 0, invalid: 1, unknown_type: 0 });
    const again = await h.post(arrayData('EZ1a000000000000000000000000000004'));
    assert.equal(again.status, 200, 'as a bare object too');
    assert.equal((await deadLetters(h)).filter((l) => l['reason'] === 'schema').length, 3);
  });
});

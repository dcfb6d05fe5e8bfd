// The webhook over real HTTP on loopback, signed exactly as Twilio signs (DESIGN section 3).
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEAD_LETTER_FILE } from '../../src/store/dead-letter.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startExporter, TEST_TOKEN, type Harness } from '../support/harness.js';
import { sampleValue } from '../support/prom.js';

const SDK_METRIC = 'call-metrics/sdk-edge-one-second-sample.json';
const EVENTS = 'com.twilio.voice.insights.';
const events = (rel: string) => loadFixtureEvents(rel);
const one = (rel: string) => {
  const [first] = events(rel);
  assert.ok(first, `${rel} holds an event`);
  return first;
};
const withId = (e: Record<string, unknown>, id: string) => ({ ...e, id });

async function counter(h: Harness, name: string, labels: Record<string, string>): Promise<number> {
  return sampleValue(await h.scrape(), name, labels) ?? Number.NaN;
}

describe('signed deliveries', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startExporter();
  });
  afterAll(() => h.stop());

  test('a signed batch of every family is accepted and counted by type', async () => {
    const batch = [
      withId(one(SDK_METRIC), 'EZ00000000000000000000000000000a01'),
      withId(one('call-metrics/gateway-carrier-edge-interval.json'), 'EZ00000000000000000000000000000a02'),
      withId(one('call-events/gateway-call-connected.json'), 'EZ00000000000000000000000000000a03'),
      withId(one('call-events/sdk-high-jitter-warning-raised.json'), 'EZ00000000000000000000000000000a04'),
      withId(one('call-summary/partial-v1-data-as-string.json'), 'EZ00000000000000000000000000000a05'),
      withId(one('call-summary/predicted-complete.json'), 'EZ00000000000000000000000000000a06'),
      withId(one('call-summary/complete-carrier-call.json'), 'EZ00000000000000000000000000000a07'),
    ];
    const res = await h.post(batch);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 7, duplicate: 0, invalid: 0, unknown_type: 0 });
    const text = await h.scrape();
    for (const type of [
      'call-metrics.sdk',
      'call-metrics.gateway',
      'call-event.gateway',
      'call-event.sdk',
      'call-summary.partial',
      'call-summary.predicted-complete',
      'call-summary.complete',
    ]) {
      assert.equal(
        sampleValue(text, 'voice_insights_exporter_events_total', { type: EVENTS + type, outcome: 'accepted' }),
        1,
        type,
      );
    }
    assert.equal(sampleValue(text, 'voice_insights_exporter_webhook_requests_total', { code: '200' }), 1);
  });

  test('a single CloudEvent object (not in an array) is accepted', async () => {
    const res = await h.post(withId(one('call-events/sdk-error-31600.json'), 'EZ00000000000000000000000000000b01'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 0 });
  });

  test('a redelivered id is acknowledged and counted as duplicate, within and across requests', async () => {
    const e = withId(one(SDK_METRIC), 'EZ00000000000000000000000000000c01');
    const first = await h.post([e, e]);
    assert.deepEqual(first.json, { accepted: 1, duplicate: 1, invalid: 0, unknown_type: 0 });
    const again = await h.post([e]);
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, { accepted: 0, duplicate: 1, invalid: 0, unknown_type: 0 });
    const type = `${EVENTS}call-metrics.sdk`;
    assert.equal(await counter(h, 'voice_insights_exporter_events_total', { type, outcome: 'duplicate' }), 2);
  });

  test('concurrent redeliveries of one id: exactly one is accepted', async () => {
    const e = withId(one(SDK_METRIC), 'EZ00000000000000000000000000000c02');
    const answers = await Promise.all(Array.from({ length: 8 }, () => h.post([e])));
    const accepted = answers.reduce((n, a) => n + (a.json as { accepted: number }).accepted, 0);
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(accepted, 1);
  });

  test('a mixed batch: valid events accepted, invalid ones dead-lettered with field paths, 200', async () => {
    const bad = events('invalid/call-metrics-jitter-value-non-numeric-string.json');
    const noId = events('invalid/envelope-id-missing.json');
    const good = withId(one(SDK_METRIC), 'EZ00000000000000000000000000000d01');
    const res = await h.post([good, ...bad, ...noId]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 1, duplicate: 0, invalid: 2, unknown_type: 0 });
    const lines = (await readFile(join(h.dataDir, DEAD_LETTER_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const schema = lines.find((l) => l.reason === 'schema');
    const envelope = lines.find((l) => l.reason === 'envelope');
    assert.ok(schema && envelope);
    assert.match(JSON.stringify(schema.issues), /data\.sdk_edge\.interval\.jitter/);
    assert.deepEqual(schema.event, bad[0], 'the event is kept as received');
    assert.match(JSON.stringify(envelope.issues), /"path":"id"/);
    const text = await h.scrape();
    assert.equal(sampleValue(text, 'voice_insights_exporter_dead_letters_total', { reason: 'schema' }), 1);
    assert.equal(sampleValue(text, 'voice_insights_exporter_dead_letters_total', { reason: 'envelope' }), 1);
  });

  test('an unknown type is acknowledged and counted, a sink test event is accepted', async () => {
    const unknown = {
      ...withId(one(SDK_METRIC), 'EZ00000000000000000000000000000e01'),
      // A Twilio type this exporter does not read (conference types are known since issue 14).
      type: 'com.twilio.messaging.message.delivered',
    };
    const res = await h.post([unknown, withId(one('test-event/sink-test.json'), 'EZ00000000000000000000000000000e02')]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 1 });
    const text = await h.scrape();
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_events_total', { type: 'other', outcome: 'unknown_type' }),
      1,
    );
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_events_total', {
        type: 'com.twilio.eventstreams.test-event',
        outcome: 'accepted',
      }),
      1,
    );
  });

  test('a body that is not JSON, or holds no CloudEvent, is 400', async () => {
    for (const body of ['{"id": "EZ1", "type": ', 'null', '42', '[]', '[1, 2]', '[{"no": "envelope"}]']) {
      const res = await h.post(body);
      assert.equal(res.status, 400, body);
      assert.ok(typeof res.json === 'object' && res.json !== null && 'error' in res.json, body);
    }
  });

  test('signature failures: missing 401, wrong token 403, tampered body 403, replayed URL 403; each counted by reason', async () => {
    const body = JSON.stringify([withId(one(SDK_METRIC), 'EZ00000000000000000000000000000f01')]);
    assert.equal((await h.post(body, { token: null })).status, 401);
    assert.equal((await h.post(body, { token: 'not-the-token' })).status, 403);
    // Signed for one body, sent with another: the bodySHA256 in the URL no longer matches.
    const signed = await import('../../src/http/signature.js').then((m) =>
      m.signTwilioRequest(TEST_TOKEN, h.webhookUrl, Buffer.from(body)),
    );
    const tampered = body.replace('"both"', '"inbound"');
    const replay = await fetch(signed.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twilio-signature': signed.signature },
      body: tampered,
    });
    assert.equal(replay.status, 403);
    const text = await h.scrape();
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_signature_failures_total', { reason: 'missing_signature' }),
      1,
    );
    assert.equal(sampleValue(text, 'voice_insights_exporter_signature_failures_total', { reason: 'bad_signature' }), 1);
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_signature_failures_total', { reason: 'body_hash_mismatch' }),
      1,
    );
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_events_total', {
        type: `${EVENTS}call-metrics.sdk`,
        outcome: 'accepted',
      }),
      4,
      'none of the rejected bodies was ingested',
    );
  });

  test('oversize is 413, wrong content type and compressed bodies are 415', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
    assert.equal((await h.post(big)).status, 413);
    const body = JSON.stringify([one(SDK_METRIC)]);
    assert.equal((await h.post(body, { headers: { 'content-type': 'text/plain' } })).status, 415);
    assert.equal(
      (await h.post(body, { headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status,
      415,
    );
    assert.equal((await h.post(body, { headers: { 'content-encoding': 'gzip' } })).status, 415);
    const cloudevents = await h.post(JSON.stringify([withId(one(SDK_METRIC), 'EZ00000000000000000000000000000f02')]), {
      headers: { 'content-type': 'application/cloudevents-batch+json; charset=utf-8' },
    });
    assert.equal(cloudevents.status, 200);
  });

  test('other methods and paths: 405 and 404; health endpoints answer', async () => {
    assert.equal((await fetch(h.webhookUrl)).status, 405);
    assert.equal((await fetch(h.webhookUrl.replace('/events', '/nope'), { method: 'POST' })).status, 404);
    assert.deepEqual(await (await fetch(h.webhookUrl.replace('/events', '/healthz'))).json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(h.webhookUrl.replace('/events', '/readyz'))).json(), { ready: true });
  });

  test('self-metrics with fixed label sets are exposed at 0 from start', async () => {
    const fresh = await startExporter();
    try {
      const text = await fresh.scrape();
      assert.equal(sampleValue(text, 'voice_insights_exporter_webhook_requests_total', { code: '503' }), 0);
      assert.equal(
        sampleValue(text, 'voice_insights_exporter_signature_failures_total', { reason: 'bad_signature' }),
        0,
      );
      assert.equal(
        sampleValue(text, 'voice_insights_exporter_events_total', {
          type: `${EVENTS}call-summary.complete`,
          outcome: 'invalid',
        }),
        0,
      );
      assert.equal(sampleValue(text, 'voice_insights_exporter_dead_letters_total', { reason: 'schema' }), 0);
      assert.equal(sampleValue(text, 'voice_insights_exporter_ready'), 1);
    } finally {
      await fresh.stop();
    }
  });
});

describe('configuration-dependent answers', () => {
  test('no auth token configured: 503 with Retry-After, not ready, body never read', async () => {
    const h = await startExporter({ TWILIO_AUTH_TOKEN: '' });
    try {
      const res = await h.post([one(SDK_METRIC)]);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.match(JSON.stringify(res.json), /TWILIO_AUTH_TOKEN/);
      const ready = await fetch(h.webhookUrl.replace('/events', '/readyz'));
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /TWILIO_AUTH_TOKEN/);
      assert.equal(sampleValue(await h.scrape(), 'voice_insights_exporter_ready'), 0);
    } finally {
      await h.stop();
    }
  });

  test('token rotation: a delivery signed with the second token is accepted', async () => {
    const h = await startExporter({ TWILIO_AUTH_TOKEN: `old-token,${TEST_TOKEN}` });
    try {
      assert.equal((await h.post([one(SDK_METRIC)])).status, 200);
    } finally {
      await h.stop();
    }
  });

  test('PUBLIC_URL behind a proxy that rewrites the path: signature checked against the public URL', async () => {
    const publicUrl = 'https://hooks.example.com:443/twilio/insights';
    const h = await startExporter({ PUBLIC_URL: publicUrl });
    try {
      const ok = await h.post([one(SDK_METRIC)], {
        signedFor: 'https://hooks.example.com/twilio/insights',
        requestPath: '/events',
      });
      assert.equal(ok.status, 200, 'signed without the default port, configured with it');
      const wrong = await h.post([one(SDK_METRIC)], {
        signedFor: 'https://hooks.example.com/other',
        requestPath: '/events',
      });
      assert.equal(wrong.status, 403);
    } finally {
      await h.stop();
    }
  });

  test('Basic auth from the sink URL: missing or wrong credentials 401, right ones pass', async () => {
    const h = await startExporter({ BASIC_AUTH_USER: 'twilio', BASIC_AUTH_PASSWORD: 's3cret:pw' });
    try {
      const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
      assert.equal((await h.post([one(SDK_METRIC)])).status, 401);
      assert.equal(
        (await h.post([one(SDK_METRIC)], { headers: { authorization: basic('twilio', 'nope') } })).status,
        401,
      );
      assert.equal(
        (await h.post([one(SDK_METRIC)], { headers: { authorization: basic('twilio', 's3cret:pw') } })).status,
        200,
      );
      const text = await h.scrape();
      assert.equal(
        sampleValue(text, 'voice_insights_exporter_signature_failures_total', { reason: 'basic_auth_missing' }),
        1,
      );
      assert.equal(
        sampleValue(text, 'voice_insights_exporter_signature_failures_total', { reason: 'basic_auth_wrong' }),
        1,
      );
    } finally {
      await h.stop();
    }
  });

  test('INSECURE_ACCEPT_UNSIGNED accepts unsigned deliveries', async () => {
    const h = await startExporter({ TWILIO_AUTH_TOKEN: '', INSECURE_ACCEPT_UNSIGNED: 'true' });
    try {
      assert.equal((await h.post([one(SDK_METRIC)], { token: null })).status, 200);
    } finally {
      await h.stop();
    }
  });

  test('DATA_DIR not writable: 503 so Twilio retries', async () => {
    const h = await startExporter({ DATA_DIR: '/proc/version/not-a-dir' });
    try {
      const res = await h.post([one(SDK_METRIC)]);
      assert.equal(res.status, 503);
      assert.match(JSON.stringify(res.json), /DATA_DIR/);
    } finally {
      await h.stop();
    }
  });
});

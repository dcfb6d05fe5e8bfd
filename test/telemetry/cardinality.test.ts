// Bounded label values and the rule that no label ever carries a per-call identifier.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { listFixtures, loadFixtureEvents } from '../support/fixtures.js';
import { callSid, sdkEvent, sdkMetric } from '../support/events.js';
import { startExporter } from '../support/harness.js';
import { parseSamples, sampleValue } from '../support/prom.js';

test('values past METRIC_LABEL_MAX_VALUES fold into `other` and are counted', async () => {
  const h = await startExporter({ METRIC_LABEL_MAX_VALUES: '3' });
  try {
    const events = Array.from({ length: 10 }, (_, i) => sdkEvent('card', 'connection', `custom-name-${i}`));
    assert.equal((await h.post(events)).status, 200);
    const samples = parseSamples(await h.scrape());
    const names = samples.filter((s) => s.name === 'twilio_voice_call_events_total').map((s) => s.labels.name);
    assert.deepEqual(names.sort(), ['custom-name-0', 'custom-name-1', 'custom-name-2', 'other']);
    assert.equal(sampleValue(samples, 'twilio_voice_call_events_total', { name: 'other' }), 7);
    assert.equal(
      sampleValue(samples, 'voice_insights_exporter_label_overflow_total', {
        metric: 'twilio_voice_call_events_total',
        label: 'name',
      }),
      7,
    );
  } finally {
    await h.stop();
  }
});

test('SIDs, phone numbers, IPs and SIP URIs smuggled into label fields never reach /metrics', async () => {
  const h = await startExporter();
  const smuggled = [
    callSid('victim'),
    '+14155550123',
    '(415) 555-0123',
    '203.0.113.77',
    '2001:db8::1',
    'sip:alice@example.com',
    'client:agent_jdoe',
  ];
  try {
    const events = smuggled.flatMap((value) => [
      sdkEvent('smuggle', value, value),
      sdkMetric('smuggle', { jitter: 5 }, { codec: value }),
    ]);
    // Every realistic fixture too: their SIDs, numbers and IPs must not show up either.
    const fixtures = listFixtures()
      .filter((f) => !f.startsWith('invalid/'))
      .flatMap((f) => loadFixtureEvents(f));
    assert.equal((await h.post([...events, ...fixtures])).status, 200);
    const text = await h.scrape();
    for (const value of smuggled) assert.ok(!text.includes(value), `${value} leaked into /metrics`);
    const fixtureText = JSON.stringify(fixtures);
    const identifiers = new Set(
      fixtureText.match(/\b(?:CA|AC|CF|CP)[0-9a-f]{32}\b|\+\d{8,15}|\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? [],
    );
    assert.ok(identifiers.size > 10, 'the fixtures do carry identifiers');
    for (const id of identifiers) assert.ok(!text.includes(id), `${id} leaked into /metrics`);
    // Nothing but known label names appear on twilio_* series.
    const labelNames = new Set(
      parseSamples(text)
        .filter((s) => s.name.startsWith('twilio_'))
        .flatMap((s) => Object.keys(s.labels)),
    );
    const allowed = [
      'edge',
      'stream_direction',
      'codec',
      'region',
      'channel',
      'source',
      'group',
      'name',
      'level',
      'le',
      'call_type',
      'call_direction',
      'call_state',
      'disconnected_by',
      'tag',
      // Fixed sets: 1..5 and true/false/unknown.
      'call_score',
      'verified',
      // Conferences: Twilio's documented value lists (else other), and fixed ones.
      'status',
      'end_reason',
      'kind',
      'role',
    ];
    for (const l of labelNames) assert.ok(allowed.includes(l), `unexpected label ${l}`);
  } finally {
    await h.stop();
  }
});

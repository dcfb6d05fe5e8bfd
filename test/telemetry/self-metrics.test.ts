// Self-metrics whose label values are a fixed set are exposed at 0 from start (DESIGN section 4), so
// alerts and dashboards work before the first failure; the label-overflow preset covers every
// (metric, label) pair the recorders let the label limiter bound.
import { test } from '@jest/globals';
import { createNoopMeter } from '@opentelemetry/api';
import assert from '../support/assert.js';
import { listFixtures, loadFixtureEvents } from '../support/fixtures.js';
import { startExporter } from '../support/harness.js';
import { parseSamples } from '../support/prom.js';
import { ManualClock } from '../../src/clock.js';
import { parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import { EVENT_TYPES } from '../../src/events/types.js';
import { LIMITED_LABELS, OTHER_TYPE, SELF_METRICS, type MetricDef } from '../../src/telemetry/catalog.js';
import { createCallMetricsRecorder } from '../../src/telemetry/call-metrics-recorder.js';
import { createCallOutcomeRecorder } from '../../src/telemetry/call-outcome-recorder.js';
import { createConferenceRecorder } from '../../src/telemetry/conference-recorder.js';
import type { ConferenceSummaryRecord, ParticipantSummaryRecord } from '../../src/events/types.js';
import { presetCombinations } from '../../src/telemetry/instruments.js';
import { LabelLimiter } from '../../src/telemetry/label-limiter.js';

const key = (labels: Record<string, unknown>): string =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))));

test('every self counter has a fixed label set, and a fresh exporter exposes each of its series at 0', async () => {
  const counters: MetricDef[] = Object.values(SELF_METRICS).filter((d) => d.kind === 'counter');
  // A counter with labels and no preset would appear only after its first increment.
  assert.deepEqual(
    counters.filter((d) => d.labels.length > 0 && !('preset' in d)).map((d) => d.name),
    [],
  );
  const h = await startExporter();
  try {
    const samples = parseSamples(await h.scrape());
    for (const def of counters) {
      const expected = presetCombinations(def).map(key);
      assert.ok(expected.length > 0, def.name);
      const got = samples.filter((s) => s.name === def.name);
      assert.deepEqual(got.map((s) => key(s.labels)).sort(), [...expected].sort(), def.name);
      assert.deepEqual(
        got.filter((s) => s.value !== 0).map((s) => key(s.labels)),
        [],
        def.name,
      );
    }
    // The two this test was written for, spelled out.
    const overflow = samples.filter((s) => s.name === SELF_METRICS.labelOverflow.name);
    assert.ok(
      overflow.some((s) => s.labels['metric'] === 'twilio_voice_call_events_total' && s.labels['label'] === 'name'),
    );
    assert.ok(overflow.some((s) => s.labels['metric'] === 'twilio_voice_interval_*' && s.labels['label'] === 'codec'));
    const versions = samples.filter((s) => s.name === SELF_METRICS.unknownSchemaVersions.name);
    assert.deepEqual(versions.map((s) => s.labels['type']).sort(), [...EVENT_TYPES, OTHER_TYPE].sort());
  } finally {
    await h.stop();
  }
});

test('the label-overflow preset lists every (metric, label) pair the recorders bound', () => {
  // With room for no value at all, every label value the recorders pass through the limiter overflows.
  const seen = new Set<string>();
  const limiter = new LabelLimiter(0, (metric, label) => seen.add(key({ metric, label })));
  const meter = createNoopMeter();
  const samples = createCallMetricsRecorder(meter, limiter, new ManualClock());
  const outcomes = createCallOutcomeRecorder(meter, limiter);
  const conferences = createConferenceRecorder(meter, limiter);
  const conferenceSummaries: ConferenceSummaryRecord[] = [];
  const participants: ParticipantSummaryRecord[] = [];
  let converted = 0;
  for (const rel of listFixtures().filter((f) => !f.startsWith('invalid/'))) {
    for (const element of loadFixtureEvents(rel)) {
      const parsed = parseEnvelope(element);
      if (!parsed.ok) continue;
      const family = FAMILIES[parsed.envelope.info.type as keyof typeof FAMILIES] as
        (typeof FAMILIES)[keyof typeof FAMILIES] | undefined;
      const result = family?.(parsed.envelope);
      if (result === undefined || !result.ok) continue;
      const record = result.value;
      const meta = { info: parsed.envelope.info, receivedAt: 0 };
      converted++;
      if (record.kind === 'call-metric') samples.onCallMetric(record, meta);
      else if (record.kind === 'call-event') samples.onCallEvent(record, meta);
      else if (record.kind === 'call-summary') outcomes.record(record);
      else if (record.kind === 'conference-summary') conferenceSummaries.push(record);
      else if (record.kind === 'participant-summary') participants.push(record);
    }
  }
  assert.ok(converted > 30, `${converted} fixture events converted`);
  // Conference labels take Twilio's documented values whatever the capacity, so the fixtures (all
  // documented values) bound nothing; one value off each list does.
  const before = seen.size;
  for (const summary of conferenceSummaries) conferences.recordConference(summary, participants);
  assert.ok(conferenceSummaries.length >= 3 && participants.length >= 4, 'conference fixtures converted');
  assert.equal(seen.size, before, 'documented conference values never fold');
  const [summary] = conferenceSummaries;
  const [leg] = participants;
  assert.ok(summary !== undefined && leg !== undefined);
  conferences.recordConference({ ...summary, status: 'archived', endReason: 'moved', tags: ['new_tag'] }, [
    { ...leg, callType: 'whatsapp', callDirection: 'sideways' },
  ]);
  const preset = new Set(LIMITED_LABELS.map(key));
  assert.deepEqual(
    [...seen].filter((pair) => !preset.has(pair)),
    [],
  );
  // And the preset names no pair the recorders never use.
  assert.deepEqual(
    [...preset].filter((pair) => !seen.has(pair)),
    [],
  );
});

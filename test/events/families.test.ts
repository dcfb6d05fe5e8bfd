import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { isKnownSchemaVersion, parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import type { FieldIssue } from '../../src/events/family.js';
import { EVENT_TYPES, isEventType } from '../../src/events/types.js';
import type { ConvertedEvent } from '../../src/events/types.js';
import { listFixtures, loadFixtureEvents } from '../support/fixtures.js';

type Outcome =
  | { ok: true; value: ConvertedEvent; schemaKnown: boolean }
  | { ok: false; stage: 'envelope' | 'schema'; issues: FieldIssue[] };

/** What the ingest pipeline does with one element: envelope, then the family converter. */
function run(element: unknown): Outcome {
  const parsed = parseEnvelope(element);
  if (!parsed.ok) return { ok: false, stage: 'envelope', issues: parsed.issues };
  const { info } = parsed.envelope;
  assert.ok(isEventType(info.type), `unknown type ${info.type}`);
  const converted = FAMILIES[info.type](parsed.envelope);
  if (!converted.ok) return { ok: false, stage: 'schema', issues: converted.issues };
  return { ok: true, value: converted.value, schemaKnown: isKnownSchemaVersion(info) };
}

const KIND_BY_FOLDER: Record<string, ConvertedEvent['kind']> = {
  'call-events': 'call-event',
  'call-metrics': 'call-metric',
  'call-summary': 'call-summary',
  'conference-summary': 'conference-summary',
  'conference-participant-summary': 'participant-summary',
  'test-event': 'sink-test',
};

/** Each invalid fixture, the stage that rejects it and the issue paths it must report. */
const INVALID: Record<string, { stage: 'envelope' | 'schema'; paths: string[] }> = {
  'invalid/call-summary-call-sid-missing.json': { stage: 'schema', paths: ['data.call_sid'] },
  'invalid/call-metrics-jitter-value-non-numeric-string.json': {
    stage: 'schema',
    paths: ['data.sdk_edge.interval.jitter.value'],
  },
  'invalid/call-metrics-loss-percentage-above-100.json': {
    stage: 'schema',
    paths: ['data.sip_edge.interval.packets_loss_percentage'],
  },
  // With a usable id and type, undecodable data fails the family schema (dead-lettered under 2xx), not the envelope.
  'invalid/call-summary-data-string-not-json.json': { stage: 'schema', paths: ['data'] },
  'invalid/envelope-id-missing.json': { stage: 'envelope', paths: ['id'] },
  'invalid/call-summary-data-is-array.json': { stage: 'schema', paths: ['data'] },
  'invalid/call-event-group-missing.json': { stage: 'schema', paths: ['data.group'] },
  'invalid/call-event-timestamp-unparsable-no-time.json': { stage: 'schema', paths: ['data.timestamp'] },
  'invalid/call-event-no-timestamp-no-time.json': { stage: 'schema', paths: ['data.timestamp'] },
  // Without a ConferenceSid there is no trace to put a conference summary or a leg in.
  'invalid/conference-summary-conference-sid-missing.json': { stage: 'schema', paths: ['data.conference_sid'] },
  'invalid/conference-participant-summary-conference-sid-missing.json': {
    stage: 'schema',
    paths: ['data.conference_sid'],
  },
};

const fixtures = listFixtures();
const valid = fixtures.filter((path) => !path.startsWith('invalid/'));
const invalid = fixtures.filter((path) => path.startsWith('invalid/'));

describe('FAMILIES', () => {
  test('has exactly one converter per EventType', () => {
    assert.deepEqual(Object.keys(FAMILIES).sort(), [...EVENT_TYPES].sort());
  });

  test('fixture event ids are unique across all fixtures', () => {
    const seen = new Map<string, string>();
    for (const path of fixtures) {
      for (const element of loadFixtureEvents(path)) {
        const id = element['id'];
        if (typeof id !== 'string') continue;
        assert.ok(!seen.has(id), `${path} reuses id ${id} from ${seen.get(id)}`);
        seen.set(id, path);
      }
    }
    assert.ok(seen.size >= 40);
  });
});

describe('every valid fixture converts', () => {
  assert.ok(valid.length >= 30, 'fixtures found');
  for (const path of valid) {
    test(path, () => {
      for (const element of loadFixtureEvents(path)) {
        const outcome = run(element);
        if (!outcome.ok) assert.fail(`${outcome.stage}: ${JSON.stringify(outcome.issues)}`);
        const family = path.split('/')[0] ?? '';
        assert.equal(outcome.value.kind, KIND_BY_FOLDER[family]);
        // Only the deliberate unknown-version fixture carries a schema version we do not list.
        assert.equal(outcome.schemaKnown, path !== 'call-metrics/schema-version-3.json');
      }
    });
  }
});

describe('every invalid fixture fails where expected', () => {
  test('each invalid fixture has an expectation', () => {
    assert.deepEqual(invalid, Object.keys(INVALID).sort());
  });
  for (const path of invalid) {
    test(path, () => {
      const expected = INVALID[path];
      assert.ok(expected !== undefined);
      for (const element of loadFixtureEvents(path)) {
        const outcome = run(element);
        assert.ok(!outcome.ok, 'must be rejected');
        assert.equal(outcome.stage, expected.stage);
        assert.deepEqual(
          outcome.issues.map((issue) => issue.path),
          expected.paths,
        );
      }
    });
  }

  test('the secret-looking value in a bad field appears in no issue', () => {
    const [element] = loadFixtureEvents('invalid/call-metrics-jitter-value-non-numeric-string.json');
    const outcome = run(element);
    assert.ok(!outcome.ok);
    assert.ok(JSON.stringify(element).includes('sk_live_SECRET_4f9a2c71d0e3b8a5'), 'fixture carries the secret');
    assert.ok(!JSON.stringify(outcome.issues).includes('SECRET'));
  });
});

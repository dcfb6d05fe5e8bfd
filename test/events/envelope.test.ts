import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import {
  isKnownSchemaVersion,
  KNOWN_SCHEMA_VERSIONS,
  parseDataschema,
  parseEnvelope,
} from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import { EVENT_TYPES } from '../../src/events/types.js';
import { loadFixtureEvents } from '../support/fixtures.js';

const base = {
  specversion: '1.0',
  type: 'com.twilio.voice.insights.call-metrics.gateway',
  source: '/v1/Voice/CA85e2ba63d825b1e325d549b64dd8e4a8/Metrics',
  id: 'EZ00112233445566778899aabbccddeeff',
  dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2',
  datacontenttype: 'application/json',
  time: '2025-03-14T15:03:31.412Z',
  data: { call_sid: 'CA85e2ba63d825b1e325d549b64dd8e4a8' },
};

function parseOk(element: unknown) {
  const parsed = parseEnvelope(element);
  if (!parsed.ok) assert.fail(`expected ok, got issues ${JSON.stringify(parsed.issues)}`);
  return parsed.envelope;
}

function parseFail(element: unknown) {
  const parsed = parseEnvelope(element);
  assert.ok(!parsed.ok, 'expected failure');
  return parsed;
}

describe('parseEnvelope', () => {
  test('reads id, type, time and dataschema; passes data through', () => {
    const envelope = parseOk(base);
    assert.deepEqual(envelope.info, {
      id: 'EZ00112233445566778899aabbccddeeff',
      type: 'com.twilio.voice.insights.call-metrics.gateway',
      time: Date.UTC(2025, 2, 14, 15, 3, 31, 412),
      schemaName: 'VoiceInsights.CallMetric',
      schemaVersion: 2,
    });
    assert.deepEqual(envelope.data, { call_sid: 'CA85e2ba63d825b1e325d549b64dd8e4a8' });
  });

  test('the sink test event: data as a JSON string, dataschema ending in .json', () => {
    const [element] = loadFixtureEvents('test-event/sink-test.json');
    const envelope = parseOk(element);
    assert.equal(envelope.info.schemaName, 'EventStreams.TestSink');
    assert.equal(envelope.info.schemaVersion, 1);
    assert.deepEqual(envelope.data, { test_id: 'df991496-e2ef-472f-b0cf-296448a100f7' });
  });

  test('datacontenttype holding a timestamp is ignored and a missing time is fine (§8.1)', () => {
    const [element] = loadFixtureEvents('call-metrics/datacontenttype-holds-timestamp-no-time.json');
    assert.equal(parseOk(element).info.time, undefined);
    assert.ok(parseOk({ ...base, datacontenttype: 42 }));
  });

  test('an unparsable or non-string time is treated as absent, not an error', () => {
    assert.equal(parseOk({ ...base, time: 'not a time' }).info.time, undefined);
    assert.equal(parseOk({ ...base, time: 1710428611412 }).info.time, undefined);
  });

  test('specversion, source and dataschema are optional and never fatal', () => {
    const { specversion: _s, source: _o, dataschema: _d, ...bare } = base;
    const envelope = parseOk(bare);
    assert.equal(envelope.info.schemaName, undefined);
    assert.equal(envelope.info.schemaVersion, undefined);
    assert.equal(parseOk({ ...base, dataschema: 7, source: null, specversion: 1 }).info.schemaVersion, undefined);
  });

  test('unknown envelope fields are ignored', () => {
    const [element] = loadFixtureEvents('call-metrics/unknown-extra-fields.json');
    assert.equal(parseOk(element).info.id, 'EZbb8ee62de95e9aca10959887016ee232');
  });

  test('data absent or null -> undefined; object or JSON-object string decoded', () => {
    const { data: _data, ...withoutData } = base;
    assert.equal(parseOk(withoutData).data, undefined);
    assert.equal(parseOk({ ...base, data: null }).data, undefined);
    assert.deepEqual(parseOk({ ...base, data: '{"call_sid":"CA1"}' }).data, { call_sid: 'CA1' });
  });

  test('data that is not an object nor a JSON-object string passes the envelope with an issue at data', () => {
    for (const data of ['{"call_sid":', '[1,2]', '"text"', 'null', 'plain words', 42, true, [{ call_sid: 'CA1' }]]) {
      const envelope = parseOk({ ...base, data });
      assert.equal(envelope.info.id, base.id, JSON.stringify(data));
      assert.equal(envelope.info.type, base.type);
      assert.equal(envelope.data, undefined);
      assert.equal(envelope.dataIssue?.path, 'data', JSON.stringify(data));
    }
    assert.equal(parseOk(base).dataIssue, undefined);
  });

  test('undecodable data is a schema failure of every family, at path data', () => {
    for (const type of EVENT_TYPES) {
      for (const data of [[{ call_sid: 'CA1' }], '{"call_sid":', 42]) {
        const envelope = parseOk({ ...base, type, data });
        const converted = FAMILIES[type](envelope);
        assert.ok(!converted.ok, `${type} with data ${JSON.stringify(data)} must fail its schema`);
        assert.deepEqual(
          converted.issues.map((issue) => issue.path),
          ['data'],
        );
      }
    }
  });

  test('id and type are required non-empty strings with a length cap', () => {
    const { id: _id, ...noId } = base;
    const missing = parseFail(noId);
    assert.deepEqual(
      missing.issues.map((issue) => issue.path),
      ['id'],
    );
    assert.equal(missing.id, undefined);
    assert.equal(missing.type, base.type);

    assert.deepEqual(
      parseFail({ ...base, id: '' }).issues.map((issue) => issue.path),
      ['id'],
    );
    assert.deepEqual(
      parseFail({ ...base, id: '   ' }).issues.map((issue) => issue.path),
      ['id'],
    );
    assert.deepEqual(
      parseFail({ ...base, id: 'EZ'.repeat(200) }).issues.map((issue) => issue.path),
      ['id'],
    );
    const badType = parseFail({ ...base, type: 17 });
    assert.deepEqual(
      badType.issues.map((issue) => issue.path),
      ['type'],
    );
    assert.equal(badType.id, base.id);
    assert.equal(badType.type, undefined);
  });

  test('elements that are not plain objects are rejected', () => {
    for (const element of [null, undefined, 'EZ1', 42, [base], new Map()]) {
      const failed = parseFail(element);
      assert.equal(failed.issues.length, 1);
      assert.equal(failed.id, undefined);
    }
  });

  test('issue messages never echo payload values', () => {
    const secret = 'sk_live_SECRET_e3b0c44298fc1c14';
    const failures = [parseFail({ ...base, id: secret.repeat(20) }), parseFail({ ...base, type: { secret } })];
    for (const failed of failures) assert.ok(!JSON.stringify(failed.issues).includes(secret));
    for (const data of [`${secret} not json`, JSON.stringify([secret]), [secret]]) {
      const issue = parseOk({ ...base, data }).dataIssue;
      assert.ok(issue !== undefined);
      assert.ok(!JSON.stringify(issue).includes(secret));
    }
  });
});

describe('hostile input', () => {
  test('__proto__ / constructor keys never reach Object.prototype', () => {
    const [element] = loadFixtureEvents('call-metrics/prototype-pollution-keys.json');
    const envelope = parseOk(element);
    const converted = FAMILIES['com.twilio.voice.insights.call-metrics.gateway'](envelope);
    assert.ok(converted.ok);
    const probe: Record<string, unknown> = {};
    assert.equal(probe['polluted'], undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    assert.equal(converted.value.kind === 'call-metric' && converted.value.region, 'de1');

    const fromString = parseOk({ ...base, data: '{"__proto__":{"polluted":1},"call_sid":"CA1"}' });
    assert.ok(fromString.data !== null && typeof fromString.data === 'object');
    assert.equal(probe['polluted'], undefined);
  });

  test('deep nesting in data (object or JSON string) does not crash', () => {
    const depth = 100_000;
    const deepString = `{"call_sid":"CA1","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const asString = parseEnvelope({ ...base, data: deepString });
    assert.ok(asString.ok);
    let nested: unknown = {};
    for (let i = 0; i < depth; i++) nested = { n: nested };
    const envelope = parseOk({
      ...base,
      data: {
        timestamp: '2025-03-14T15:02:40Z',
        call_sid: 'CA1',
        extra: nested,
        carrier_edge: { interval: { packet_delay_variation: nested } },
      },
    });
    const converted = FAMILIES['com.twilio.voice.insights.call-metrics.gateway'](envelope);
    assert.ok(converted.ok);
  });
});

describe('dataschema and known versions', () => {
  test('parseDataschema reads name and version', () => {
    assert.deepEqual(parseDataschema('https://events-schemas.twilio.com/VoiceInsights.CallEvent/3'), {
      schemaName: 'VoiceInsights.CallEvent',
      schemaVersion: 3,
    });
    assert.deepEqual(parseDataschema('https://events-schemas.twilio.com/EventStreams.TestSink/1.json'), {
      schemaName: 'EventStreams.TestSink',
      schemaVersion: 1,
    });
    assert.deepEqual(parseDataschema('https://events-schemas.twilio.com/VoiceInsights.CallSummary/2/'), {
      schemaName: 'VoiceInsights.CallSummary',
      schemaVersion: 2,
    });
    assert.deepEqual(parseDataschema('https://events-schemas.twilio.com/VoiceInsights.CallSummary/latest'), {
      schemaName: 'VoiceInsights.CallSummary',
      schemaVersion: undefined,
    });
    assert.deepEqual(parseDataschema('https://example.com/VoiceInsights.CallSummary/2'), {
      schemaName: undefined,
      schemaVersion: undefined,
    });
    assert.deepEqual(parseDataschema(undefined), { schemaName: undefined, schemaVersion: undefined });
  });

  test('isKnownSchemaVersion', () => {
    const metrics = 'com.twilio.voice.insights.call-metrics.sdk';
    assert.deepEqual(KNOWN_SCHEMA_VERSIONS['VoiceInsights.CallEvent'], [1, 2, 3]);
    assert.equal(
      isKnownSchemaVersion({ type: metrics, schemaName: 'VoiceInsights.CallMetric', schemaVersion: 2 }),
      true,
    );
    assert.equal(
      isKnownSchemaVersion({ type: metrics, schemaName: 'VoiceInsights.CallMetric', schemaVersion: 3 }),
      false,
    );
    assert.equal(
      isKnownSchemaVersion({ type: metrics, schemaName: 'VoiceInsights.CallSummary', schemaVersion: 2 }),
      false,
      'schema of another family',
    );
    assert.equal(isKnownSchemaVersion({ type: metrics, schemaName: undefined, schemaVersion: undefined }), false);
    // Today's docs: CallSummary/7 and CallEvent/3 are current, so neither counts as news; /8 would.
    const complete = 'com.twilio.voice.insights.call-summary.complete';
    for (const version of [1, 2, 7]) {
      assert.equal(
        isKnownSchemaVersion({ type: complete, schemaName: 'VoiceInsights.CallSummary', schemaVersion: version }),
        true,
        `CallSummary/${version}`,
      );
    }
    assert.equal(
      isKnownSchemaVersion({ type: complete, schemaName: 'VoiceInsights.CallSummary', schemaVersion: 8 }),
      false,
    );
    assert.equal(
      isKnownSchemaVersion({
        type: 'com.twilio.voice.insights.call-event.sdk',
        schemaName: 'VoiceInsights.CallEvent',
        schemaVersion: 3,
      }),
      true,
    );
    assert.equal(
      isKnownSchemaVersion({ type: 'com.example.other', schemaName: 'EventStreams.TestSink', schemaVersion: 1 }),
      true,
    );
    for (const hostile of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.equal(isKnownSchemaVersion({ type: metrics, schemaName: hostile, schemaVersion: 1 }), false, hostile);
    }
  });
});

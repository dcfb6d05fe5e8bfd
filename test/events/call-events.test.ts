import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { convertCallEvent } from '../../src/events/call-events.js';
import type { CallEventRecord, EventSource } from '../../src/events/types.js';
import { fixtureEnvelope } from '../support/fixtures.js';

function convert(relPath: string, source: EventSource): CallEventRecord {
  const result = convertCallEvent(source)(fixtureEnvelope(`call-events/${relPath}`));
  if (!result.ok) assert.fail(`${relPath}: ${JSON.stringify(result.issues)}`);
  return result.value;
}

describe('call-event.gateway', () => {
  test('call connected on the carrier edge: region and location as details, IPs as sensitive', () => {
    assert.deepEqual(convert('gateway-call-connected.json', 'gateway'), {
      kind: 'call-event',
      callSid: 'CA85e2ba63d825b1e325d549b64dd8e4a8',
      accountSid: 'AC7a2f0a0a6baa87eea5fd69fc45de96f3',
      timestamp: Date.UTC(2025, 2, 14, 15, 2, 19, 532),
      source: 'gateway',
      edge: 'carrier_edge',
      edgeLocation: 'ashburn',
      region: 'us1',
      group: 'call',
      name: 'call.connected',
      level: 'INFO',
      errorCode: undefined,
      errorMessage: undefined,
      metricThreshold: undefined,
      metricValues: undefined,
      feedbackScore: undefined,
      feedbackReason: undefined,
      details: {},
      sensitive: { twilio_ip: '54.172.60.3', external_ip: '203.0.113.24' },
    });
  });

  test('edge field holding "ashburn" becomes the edge location; the edge comes from the object', () => {
    const record = convert('gateway-edge-field-holds-location.json', 'gateway');
    assert.equal(record.edge, 'carrier_edge');
    assert.equal(record.edgeLocation, 'ashburn');
    assert.equal(record.level, 'UNKNOWN');
    assert.equal(record.timestamp, Date.UTC(2025, 2, 14, 15, 2, 11));
  });

  test('Conversation Relay objects and an unrecognised level are tolerated', () => {
    const record = convert('conversation-relay-unknown-objects-and-level.json', 'gateway');
    assert.equal(record.group, 'conversation-relay');
    assert.equal(record.name, 'call-wrap-up');
    assert.equal(record.level, 'UNKNOWN');
    assert.equal(record.edge, undefined);
    assert.equal(record.edgeLocation, undefined);
  });

  test('no data.timestamp: the CloudEvent time is used (data sent as a string)', () => {
    const record = convert('no-data-timestamp-uses-envelope-time.json', 'gateway');
    assert.equal(record.timestamp, Date.UTC(2025, 2, 14, 15, 5, 58));
    assert.equal(record.name, 'call.completed');
  });
});

describe('call-event.sdk', () => {
  test('high-jitter warning: threshold and values, SDK details and PII split', () => {
    const record = convert('sdk-high-jitter-warning-raised.json', 'sdk');
    assert.equal(record.edge, 'sdk_edge');
    assert.equal(record.group, 'network-quality-warning-raised');
    assert.equal(record.name, 'high-jitter');
    assert.equal(record.level, 'WARNING');
    assert.equal(record.metricThreshold, 30);
    assert.deepEqual(record.metricValues, [31.41, 44.02, 38.77]);
    assert.equal(record.region, undefined);
    assert.deepEqual(record.details, {
      'sdk.type': 'twilio-voice.js',
      'sdk.version': '2.12.3',
      'sdk.platform': 'web',
      'sdk.selected_region': 'gll',
      'browser.name': 'Chrome',
      'browser.major': '122',
      country_code: 'US',
    });
    assert.deepEqual(record.sensitive, {
      client_name: 'agent_jdoe',
      ip_address: '192.0.2.45',
      city: 'Denver',
      country_subdivision: 'Colorado',
      'location.lat': 39.7392,
      'location.lon': -104.9903,
    });
  });

  test('a single metric value becomes a one-element list; level is case-insensitive', () => {
    const record = convert('sdk-low-mos-single-value-lowercase-level.json', 'sdk');
    assert.equal(record.level, 'WARNING');
    assert.equal(record.metricThreshold, 3.5);
    assert.deepEqual(record.metricValues, [2.91]);
    assert.deepEqual(record.details, {
      'sdk.type': 'twilio-voice-android',
      'sdk.version': '6.6.1',
      'sdk.platform': 'android',
      'sdk.selected_region': 'ie1',
    });
    assert.deepEqual(record.sensitive, {});
  });

  test('error 31600 with its message; browser.major sent as a number', () => {
    const record = convert('sdk-error-31600.json', 'sdk');
    assert.equal(record.level, 'ERROR');
    assert.equal(record.errorCode, 31600);
    assert.equal(record.errorMessage, 'Busy Everywhere');
    assert.equal(record.details['browser.major'], '124');
    assert.equal(record.sensitive['client_name'], 'agent_mlee');
  });

  test('feedback score and reason; a default error {0, ""} is no error', () => {
    const record = convert('sdk-feedback-received.json', 'sdk');
    assert.equal(record.feedbackScore, 5);
    assert.equal(record.feedbackReason, 'excellent_audio');
    assert.equal(record.errorCode, undefined);
    assert.equal(record.errorMessage, undefined);
  });

  test('selected ICE candidate pair types go to details', () => {
    const record = convert('sdk-selected-ice-candidate-pair.json', 'sdk');
    assert.equal(record.level, 'DEBUG');
    assert.deepEqual(record.details, {
      'ice.local.type': 'host',
      'ice.local.protocol': 'udp',
      'ice.remote.type': 'srflx',
      'ice.remote.protocol': 'udp',
    });
  });

  test('nulls, sentinels, schema defaults and 0/-0 coordinates are all no value', () => {
    const record = convert('nulls-and-sentinels.json', 'sdk');
    assert.equal(record.edge, 'sdk_edge');
    assert.equal(record.accountSid, undefined);
    assert.equal(record.level, 'UNKNOWN');
    assert.equal(record.errorCode, undefined);
    assert.equal(record.errorMessage, undefined);
    assert.equal(record.metricThreshold, undefined);
    assert.equal(record.metricValues, undefined);
    assert.equal(record.feedbackScore, undefined);
    assert.equal(record.feedbackReason, undefined);
    assert.deepEqual(record.details, {});
    assert.deepEqual(record.sensitive, {});
  });
});

describe('call-event rejections', () => {
  const MARCH_14 = Date.UTC(2025, 2, 14);
  /** `time` is the CloudEvent time; undefined = the envelope had none. */
  const envelope = (data: unknown, time: number | undefined) => ({
    info: {
      id: 'EZ1',
      type: 'com.twilio.voice.insights.call-event.sdk',
      schemaName: undefined,
      schemaVersion: undefined,
      time,
    },
    data,
  });

  test('group, name and call_sid are required', () => {
    const result = convertCallEvent('sdk')(envelope({ call_sid: '', timestamp: '2025-03-14T15:21:02Z' }, MARCH_14));
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((issue) => issue.path).sort(), ['data.call_sid', 'data.group', 'data.name']);
  });

  test('an unparsable timestamp is an issue even when the envelope has a time', () => {
    const result = convertCallEvent('sdk')(
      envelope({ call_sid: 'CA1', group: 'connection', name: 'error', timestamp: 'soon' }, MARCH_14),
    );
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((issue) => issue.path),
      ['data.timestamp'],
    );
  });

  test('no timestamp and no envelope time is an issue at data.timestamp', () => {
    const result = convertCallEvent('gateway')(
      envelope({ call_sid: 'CA1', group: 'call', name: 'call.ringing' }, undefined),
    );
    assert.ok(!result.ok);
    assert.deepEqual(result.issues, [
      { path: 'data.timestamp', message: 'Required: no data.timestamp and no CloudEvent time' },
    ]);
  });

  test('a non-numeric error code is reported by path without its value', () => {
    const secret = 'AC_SECRET_auth_token_5f4dcc3b5aa7';
    const result = convertCallEvent('sdk')(
      envelope(
        {
          call_sid: 'CA1',
          group: 'connection',
          name: 'error',
          timestamp: '2025-03-14T15:21:02Z',
          sdk_edge: { error: { code: secret } },
        },
        MARCH_14,
      ),
    );
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((issue) => issue.path),
      ['data.sdk_edge.error.code'],
    );
    assert.ok(!JSON.stringify(result.issues).includes(secret));
  });
  test('mobile SDK (REST Call Events example): os and device as low-cardinality details, identity and place sensitive', () => {
    const record = convert('sdk-mobile-os-device.json', 'sdk');
    assert.deepEqual(record.details, {
      'sdk.type': 'twilio-voice-android',
      'sdk.version': '4.5.1',
      'sdk.platform': 'android',
      'sdk.selected_region': 'gll',
      'sdk.os.name': 'android',
      'sdk.os.version': '4.3',
      'sdk.device.type': 'GT-I9300',
      'sdk.device.vendor': 'samsung',
      'sdk.device.model': 'GT-I9300',
      'sdk.device.arch': 'armeabi-v7a',
      country_code: 'US',
    });
    assert.equal(record.sensitive.ip_address, '108.177.7.83');
  });
});

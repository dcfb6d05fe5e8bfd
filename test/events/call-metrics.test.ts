import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { convertCallMetric } from '../../src/events/call-metrics.js';
import type { CallMetricSample, EventSource } from '../../src/events/types.js';
import { fixtureEnvelope } from '../support/fixtures.js';

function convert(relPath: string, source: EventSource): CallMetricSample {
  const result = convertCallMetric(source)(fixtureEnvelope(`call-metrics/${relPath}`));
  if (!result.ok) assert.fail(`${relPath}: ${JSON.stringify(result.issues)}`);
  return result.value;
}

describe('call-metrics.gateway', () => {
  test('carrier edge 10 s interval: packets only, cumulative jitter ms -> s, region from metadata', () => {
    assert.deepEqual(convert('gateway-carrier-edge-interval.json', 'gateway'), {
      kind: 'call-metric',
      callSid: 'CA85e2ba63d825b1e325d549b64dd8e4a8',
      accountSid: 'AC7a2f0a0a6baa87eea5fd69fc45de96f3',
      timestamp: Date.UTC(2025, 2, 14, 15, 2, 40),
      source: 'gateway',
      edge: 'carrier_edge',
      streamDirection: 'inbound',
      codec: 'pcmu',
      region: 'us1',
      interval: { packetsReceived: 500, packetsLost: 0, packetLossRatio: 0 },
      cumulative: { packetsReceived: 1450, packetsLost: 0, jitterSeconds: { max: 0.00148209, avg: 0.000483035 } },
    });
  });

  test('sip edge with 2.5 % loss -> ratio 0.025', () => {
    const sample = convert('gateway-sip-edge-high-loss.json', 'gateway');
    assert.equal(sample.edge, 'sip_edge');
    assert.equal(sample.streamDirection, 'outbound');
    assert.equal(sample.codec, 'pcma');
    assert.equal(sample.region, 'de1');
    assert.equal(sample.interval.packetLossRatio, 0.025);
    assert.equal(sample.interval.packetsLost, 13);
    assert.deepEqual(sample.cumulative.jitterSeconds, { max: 0.0317, avg: 0.00625 });
  });

  test('data sent as a JSON string is decoded and converted', () => {
    const sample = convert('data-as-json-string.json', 'gateway');
    assert.equal(sample.streamDirection, 'outbound');
    assert.deepEqual(sample.interval, { packetsSent: 500, packetsLost: 0, packetLossRatio: 0 });
    assert.deepEqual(sample.cumulative.jitterSeconds, { max: 0.0021, avg: 0.00052 });
  });

  test('nulls and sentinels become undefined, never 0; a real 0 stays 0', () => {
    const sample = convert('nulls-and-sentinels.json', 'gateway');
    assert.equal(sample.accountSid, undefined);
    assert.equal(sample.edge, 'client_edge', 'the non-null edge object wins over edge: unknown_edge');
    assert.equal(sample.streamDirection, 'unknown');
    assert.equal(sample.codec, undefined, 'unknown_codec_name and "" are no codec');
    assert.equal(sample.region, undefined, 'unknown_realm is no region');
    assert.equal(sample.interval.packetLossRatio, undefined);
    assert.equal(sample.interval.latencySeconds, undefined, 'a stat object of nulls is absent');
    assert.deepEqual(sample.interval, { packetsReceived: 0 });
    assert.deepEqual(sample.cumulative, {});
  });

  test('edge field holding a location: the edge comes from the non-null object', () => {
    const sample = convert('edge-field-holds-location.json', 'gateway');
    assert.equal(sample.edge, 'carrier_edge');
    assert.equal(sample.interval.packetLossRatio, 0.002);
  });

  test('unknown extra fields are tolerated and dropped; latency ms -> s', () => {
    const sample = convert('unknown-extra-fields.json', 'gateway');
    assert.equal(sample.edge, 'sip_edge');
    assert.deepEqual(sample.interval, {
      packetsReceived: 500,
      packetsLost: 0,
      packetLossRatio: 0,
      latencySeconds: { avg: 0.0125, max: 0.018 },
    });
    assert.ok(!('new_metric' in sample.interval));
  });

  test('integer zero loss is a real zero', () => {
    const sample = convert('integer-zero-loss.json', 'gateway');
    assert.equal(sample.interval.packetLossRatio, 0);
    assert.equal(sample.interval.packetsLost, 0);
    assert.deepEqual(sample.cumulative.jitterSeconds, { max: 0.0019, avg: 0 });
  });

  test('an unlisted schema version (CallMetric/3) still converts', () => {
    const sample = convert('schema-version-3.json', 'gateway');
    assert.deepEqual(sample.interval, { packetsSent: 500, packetsLost: 0, packetLossRatio: 0 });
  });

  test('numeric strings are parsed', () => {
    const sample = convert('numeric-strings.json', 'gateway');
    assert.deepEqual(sample.interval, { packetsReceived: 500, packetsLost: 0, packetLossRatio: 0.025 });
    assert.deepEqual(sample.cumulative, {
      packetsReceived: 2949,
      packetsLost: 14,
      jitterSeconds: { max: 0.00148209, avg: 0.000483035 },
    });
  });

  test('no data.timestamp: the CloudEvent time is used', () => {
    assert.equal(
      convert('no-data-timestamp-uses-envelope-time.json', 'gateway').timestamp,
      Date.UTC(2025, 2, 14, 16, 11, 35, 250),
    );
  });

  test('several edge objects: the one named by edge is reported', () => {
    const sample = convert('several-edges-edge-field-disambiguates.json', 'gateway');
    assert.equal(sample.edge, 'sip_edge');
    assert.equal(sample.codec, 'g729');
    assert.equal(sample.region, 'us2');
  });
});

describe('call-metrics.sdk', () => {
  test('one-second SDK sample: values converted, audio levels raw, MOS unitless', () => {
    assert.deepEqual(convert('sdk-edge-one-second-sample.json', 'sdk'), {
      kind: 'call-metric',
      callSid: 'CA0de4d68035f5f8c77773b0db2daad3fa',
      accountSid: 'AC7a2f0a0a6baa87eea5fd69fc45de96f3',
      timestamp: Date.UTC(2025, 2, 14, 15, 20, 17),
      source: 'sdk',
      edge: 'sdk_edge',
      streamDirection: 'both',
      codec: 'opus',
      region: undefined,
      interval: {
        audioIn: { value: 81 },
        audioOut: { value: 5237 },
        jitterSeconds: { value: 0.009 },
        mos: { value: 4.39 },
        rttSeconds: { value: 0.081 },
        packetsReceived: 50,
        packetsLost: 0,
        packetLossRatio: 0,
      },
      cumulative: {
        bytesReceived: 168000,
        bytesSent: 171360,
        packetsReceived: 1000,
        packetsLost: 0,
        packetsSent: 1020,
      },
    });
  });

  test('absent direction on an SDK sample is both', () => {
    const sample = convert('sdk-direction-absent-means-both.json', 'sdk');
    assert.equal(sample.streamDirection, 'both');
    assert.equal(sample.interval.packetLossRatio, 0.02);
    assert.equal(sample.interval.bytesReceived, undefined);
  });

  test('generated-example shape: no time, codec_name only inside interval', () => {
    const sample = convert('datacontenttype-holds-timestamp-no-time.json', 'sdk');
    assert.equal(sample.timestamp, Date.UTC(2025, 2, 14, 15, 20, 19));
    assert.equal(sample.codec, 'opus');
    assert.deepEqual(sample.interval.mos, { value: 4.4 });
  });
});

describe('call-metrics rejections', () => {
  const envelope = (data: unknown) => ({
    info: {
      id: 'EZ1',
      type: 'com.twilio.voice.insights.call-metrics.sdk',
      schemaName: undefined,
      schemaVersion: undefined,
      time: undefined,
    },
    data,
  });

  test('no timestamp anywhere is an issue at data.timestamp', () => {
    const result = convertCallMetric('sdk')(envelope({ call_sid: 'CA1' }));
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((issue) => issue.path),
      ['data.timestamp'],
    );
  });

  test('bad values report their path and never their content', () => {
    const secret = 'sk_live_SECRET_9f8e7d6c5b4a3921';
    const result = convertCallMetric('sdk')(
      envelope({
        call_sid: 'CA1',
        timestamp: '2025-03-14T15:20:17Z',
        sdk_edge: { interval: { rtt: { value: secret }, packets_lost: -1 }, codec_name: 7 },
      }),
    );
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((issue) => issue.path).sort(), [
      'data.sdk_edge.codec_name',
      'data.sdk_edge.interval.packets_lost',
      'data.sdk_edge.interval.rtt.value',
    ]);
    assert.ok(!JSON.stringify(result.issues).includes(secret));
  });
});

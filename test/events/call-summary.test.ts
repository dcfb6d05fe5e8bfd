import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { convertCallSummary } from '../../src/events/call-summary.js';
import type { CallSummaryRecord, Party, SummaryStage } from '../../src/events/types.js';
import { fixtureEnvelope } from '../support/fixtures.js';

function convert(relPath: string, stage: SummaryStage): CallSummaryRecord {
  const result = convertCallSummary(stage)(fixtureEnvelope(`call-summary/${relPath}`));
  if (!result.ok) assert.fail(`${relPath}: ${JSON.stringify(result.issues)}`);
  return result.value;
}

const noParty: Party = {
  number: undefined,
  carrier: undefined,
  connection: undefined,
  countryCode: undefined,
  numberPrefix: undefined,
  ipAddress: undefined,
  city: undefined,
  countrySubdivision: undefined,
};

describe('call-summary', () => {
  test('v1 partial with data as a string: defaults, zeros and sentinels are no value', () => {
    const record = convert('partial-v1-data-as-string.json', 'partial');
    assert.deepEqual(record, {
      kind: 'call-summary',
      callSid: 'CAd812f49928cb77319685e2811d551229',
      accountSid: 'AC7a2f0a0a6baa87eea5fd69fc45de96f3',
      stage: 'partial',
      processingVersion: 1,
      processingState: 'partial',
      callType: 'client',
      callState: 'canceled',
      direction: 'outbound_api',
      answeredBy: undefined,
      createdTime: undefined,
      startTime: Date.UTC(2025, 2, 14, 14, 56, 28),
      endTime: Date.UTC(2025, 2, 14, 14, 56, 33),
      durationSeconds: 0,
      connectDurationSeconds: 0,
      disconnectedBy: undefined,
      postDialDelaySeconds: undefined,
      queueTimeSeconds: undefined,
      lastSipResponse: undefined,
      q850Cause: undefined,
      tags: [],
      from: {
        ...noParty,
        number: '+14155550199',
        carrier: 'MEGA:CORP',
        connection: 'landline',
        countryCode: 'US',
        numberPrefix: '1415',
      },
      to: { ...noParty, number: 'client:SOMECLIENT', connection: 'twilio_sdk' },
      edges: [],
      parentCallSid: undefined,
      conferenceParticipant: undefined,
      parentAccountSid: undefined,
      regions: undefined,
      trust: undefined,
      annotation: undefined,
    });
  });

  test('v2 partial, processing_version 2: queue time and pdd ms -> s, tags null -> []', () => {
    const record = convert('partial-processing-version-2.json', 'partial');
    assert.equal(record.processingVersion, 2);
    assert.equal(record.createdTime, Date.UTC(2025, 2, 14, 15, 2, 10));
    assert.equal(record.postDialDelaySeconds, 1.52);
    assert.equal(record.queueTimeSeconds, 0.12);
    assert.equal(record.lastSipResponse, 200);
    assert.equal(record.q850Cause, undefined, 'q850_cause 0 is unset');
    assert.equal(record.answeredBy, 'unknown');
    assert.deepEqual(record.tags, []);
    assert.equal(record.edges.length, 1);
    assert.equal(record.edges[0]?.outbound, undefined);
    assert.equal(record.edges[0]?.edgeLocation, undefined);
    assert.deepEqual(record.edges[0]?.sensitive, {});
  });

  test('predicted-complete keeps its stage and processing version', () => {
    const record = convert('predicted-complete.json', 'predicted-complete');
    assert.equal(record.stage, 'predicted-complete');
    assert.equal(record.processingVersion, 3);
    assert.equal(record.disconnectedBy, 'callee');
    assert.equal(record.conferenceParticipant, false);
    assert.equal(record.from.carrier, 'T-Mobile USA, Inc.');
    assert.equal(record.to.number, '+13035550187');
  });

  test('complete carrier call: per-direction quality in base units, network details sensitive', () => {
    const record = convert('complete-carrier-call.json', 'complete');
    assert.equal(record.stage, 'complete');
    assert.equal(record.processingState, 'complete');
    assert.equal(record.durationSeconds, 150);
    assert.equal(record.connectDurationSeconds, 142);
    assert.equal(record.q850Cause, 16);
    assert.deepEqual(record.tags, ['high_pdd']);
    assert.deepEqual(record.from, {
      number: '+14155550101',
      carrier: 'T-Mobile USA, Inc.',
      connection: 'mobile',
      countryCode: 'US',
      numberPrefix: '1415',
      ipAddress: undefined,
      city: 'San Francisco',
      countrySubdivision: 'California',
    });
    assert.deepEqual(record.edges, [
      {
        edge: 'carrier_edge',
        inbound: {
          codec: 'pcmu',
          packetsReceived: 7089,
          packetsSent: undefined,
          packetsLost: 11,
          packetLossRatio: 0.0015,
          jitterAvgSeconds: 0.000483035,
          jitterMaxSeconds: 0.00148209,
          latencyAvgSeconds: 0.0213,
          mosAvg: undefined,
          mosMin: undefined,
          rttAvgSeconds: undefined,
          mosMax: undefined,
          rttMaxSeconds: undefined,
          audioInAvg: undefined,
          audioInMax: undefined,
          audioOutAvg: undefined,
          audioOutMax: undefined,
        },
        outbound: {
          codec: 'pcmu',
          packetsReceived: undefined,
          packetsSent: 7100,
          packetsLost: 0,
          packetLossRatio: 0,
          jitterAvgSeconds: 0.00052,
          jitterMaxSeconds: 0.0021,
          latencyAvgSeconds: undefined,
          mosAvg: undefined,
          mosMin: undefined,
          rttAvgSeconds: undefined,
          mosMax: undefined,
          rttMaxSeconds: undefined,
          audioInAvg: undefined,
          audioInMax: undefined,
          audioOutAvg: undefined,
          audioOutMax: undefined,
        },
        region: 'us1',
        edgeLocation: 'ashburn',
        direction: 'outbound',
        mediaRegion: 'us1',
        signalingRegion: 'us1',
        selectedRegion: undefined,
        trunkSid: undefined,
        disconnectedBy: undefined,
        sdkEvents: undefined,
        sensitive: {
          twilio_media_ip: '54.172.60.3',
          twilio_signaling_ip: '54.172.60.1',
          external_media_ip: '203.0.113.24',
          external_signaling_ip: '203.0.113.20',
          sip_call_id: '6f1c7e0a3b2d4c58a9e1f0b2c3d4e5f6@0.0.0.0',
        },
      },
    ]);
  });

  test('complete client call: client and sdk edges in order, MOS and RTT, parent and conference', () => {
    const record = convert('complete-client-call-sdk-edge.json', 'complete');
    assert.equal(record.parentCallSid, 'CA25d7953e36ee5dfcba6c4c9635dc5c2f');
    assert.equal(record.conferenceParticipant, true);
    assert.equal(record.direction, 'outbound_dial');
    assert.equal(record.queueTimeSeconds, 0, 'queue_time 0 is a real zero');
    assert.deepEqual(record.tags, ['high_jitter', 'low_mos']);
    assert.equal(record.from.number, 'client:agent_jdoe');
    assert.equal(record.from.ipAddress, '192.0.2.45');
    assert.deepEqual(
      record.edges.map((edge) => edge.edge),
      ['client_edge', 'sdk_edge'],
    );
    const sdk = record.edges[1];
    assert.deepEqual(sdk?.inbound, {
      codec: 'opus',
      packetsReceived: 18904,
      packetsSent: undefined,
      packetsLost: 96,
      packetLossRatio: 0.005,
      jitterAvgSeconds: 0.0062,
      jitterMaxSeconds: 0.04402,
      latencyAvgSeconds: undefined,
      mosAvg: 4.31,
      mosMin: 2.91,
      rttAvgSeconds: 0.0824,
      mosMax: 4.41,
      rttMaxSeconds: 0.131,
      audioInAvg: 3120,
      audioInMax: 21456,
      audioOutAvg: undefined,
      audioOutMax: undefined,
    });
    assert.equal(sdk?.region, undefined);
    assert.deepEqual(sdk?.sensitive, {});
    assert.equal(record.edges[0]?.edgeLocation, 'umatilla');
    assert.equal(record.edges[0]?.region, 'us1', 'falls back to media_region');
  });

  test('trust and annotation (Twilio docs Call Summaries example): verified caller, branded, voice integrity, score', () => {
    const record = convert('complete-trust-annotation-carrier.json', 'complete');
    assert.equal(record.parentAccountSid, 'AC1b2c3d4e5f60718293a4b5c6d7e8f901');
    assert.deepEqual(record.trust, {
      verifiedCaller: true,
      brandedEnabled: true,
      brandedType: 'in_band',
      brandedUseCase: 'Customer Care',
      brandedLogo: true,
      voiceIntegrityEnabled: true,
      voiceIntegrityUseCase: 'customer_support',
      businessProfileIndustry: 'BANKING',
      businessProfileType: 'corporate',
    });
    assert.deepEqual(record.annotation, {
      callScore: 2,
      qualityIssues: ['low_volume'],
      spam: true,
      connectivityIssue: 'invalid_number',
      answeredBy: 'human',
      comment: 'this is a call, callback +1 415 555 0199',
      incident: 'https://twilio.zendesk.com/support/tickets/17353089',
    });
    const edge = record.edges[0];
    assert.equal(edge?.direction, 'inbound');
    assert.equal(edge?.mediaRegion, 'us1');
    assert.equal(edge?.signalingRegion, 'us1');
    assert.equal(edge?.selectedRegion, 'us1');
    assert.equal(edge?.trunkSid, 'TKf0e1d2c3b4a5968778695a4b3c2d1e0f');
    assert.equal(edge?.disconnectedBy, 'callee');
  });

  test('sdk edge summary: MOS/RTT maxima, audio levels, event counts by level, group and error, feedback', () => {
    const record = convert('complete-client-sdk-edge-events-feedback.json', 'complete');
    assert.equal(record.trust, undefined);
    assert.equal(record.annotation, undefined);
    const sdk = record.edges.find((e) => e.edge === 'sdk_edge');
    assert.equal(sdk?.inbound?.mosMax, 4.41);
    assert.equal(sdk?.inbound?.rttMaxSeconds, 0.135);
    assert.equal(sdk?.inbound?.audioInAvg, 81);
    assert.equal(sdk?.inbound?.audioOutMax, 19870);
    assert.equal(sdk?.direction, 'outbound');
    assert.deepEqual(sdk?.sdkEvents, {
      levels: { DEBUG: 22, INFO: 11, WARNING: 1, ERROR: 1 },
      groups: {
        connection: 8,
        'ice-connection-state': 6,
        'network-quality-warning-raised': 1,
        'get-user-media': 1,
        feedback: 1,
      },
      errors: { '31201': 1 },
      feedbackScore: 4,
      feedbackReason: 'audio-latency',
    });
  });

  test('odd trust/annotation/events shapes lose only the odd part, never the summary; v1 region properties', () => {
    const record = convert('trust-annotation-odd-shapes.json', 'partial');
    assert.equal(record.parentAccountSid, undefined);
    // v2 Event Streams `branded_call`; "yes" is not a boolean; a string voice_integrity is dropped.
    assert.deepEqual(record.trust, {
      verifiedCaller: undefined,
      brandedEnabled: true,
      brandedType: undefined,
      brandedUseCase: 'Appointment reminders',
      brandedLogo: undefined,
      voiceIntegrityEnabled: undefined,
      voiceIntegrityUseCase: undefined,
      businessProfileIndustry: undefined,
      businessProfileType: undefined,
    });
    // Score 9 is outside 1..5; sentinels and blanks are no value; issues lowercased and deduplicated.
    assert.deepEqual(record.annotation, {
      callScore: undefined,
      qualityIssues: ['echo'],
      spam: undefined,
      connectivityIssue: undefined,
      answeredBy: undefined,
      comment: undefined,
      incident: undefined,
    });
    assert.deepEqual(record.regions, {
      region: 'de1',
      mediaRegion: undefined,
      signalingRegion: 'ie1',
      selectedRegion: undefined,
      edgeLocation: 'frankfurt',
    });
    const sip = record.edges.find((e) => e.edge === 'sip_edge');
    assert.equal(sip?.direction, 'outbound');
    assert.equal(sip?.mediaRegion, undefined);
    assert.equal(sip?.sdkEvents, undefined, 'events as an array are dropped');
    const sdk = record.edges.find((e) => e.edge === 'sdk_edge');
    // Keys that are not identifiers (a phone number, __proto__) and values that are not counts are dropped.
    assert.deepEqual(sdk?.sdkEvents, {
      levels: { INFO: 3 },
      groups: { connection: 2 },
      errors: {},
      feedbackScore: undefined,
      feedbackReason: undefined,
    });
  });

  test('failed call: fail state, SIP 404 / Q.850 1, no metrics, sentinel disconnected_by', () => {
    const record = convert('complete-failed-call.json', 'complete');
    assert.equal(record.callState, 'fail');
    assert.equal(record.lastSipResponse, 404);
    assert.equal(record.q850Cause, 1);
    assert.equal(record.connectDurationSeconds, 0);
    assert.equal(record.disconnectedBy, undefined);
    assert.equal(record.postDialDelaySeconds, 2.86);
    assert.deepEqual(record.edges[0], {
      edge: 'carrier_edge',
      inbound: undefined,
      outbound: undefined,
      region: undefined,
      edgeLocation: 'ashburn',
      direction: 'outbound',
      mediaRegion: undefined,
      signalingRegion: 'us1',
      selectedRegion: undefined,
      trunkSid: undefined,
      disconnectedBy: undefined,
      sdkEvents: undefined,
      sensitive: { twilio_signaling_ip: '54.172.60.1', external_signaling_ip: '203.0.113.20' },
    });
  });

  test('tags null and properties null', () => {
    const record = convert('tags-null.json', 'partial');
    assert.deepEqual(record.tags, []);
    assert.equal(record.direction, undefined);
    assert.equal(record.lastSipResponse, undefined);
    assert.deepEqual(record.edges[0]?.sensitive, {
      sip_call_id: '3c2e1f0a9b8d@198.51.100.77',
      user_agent: 'Asterisk PBX 18.12.1',
    });
  });

  test('duplicate and blank tags are dropped, first-seen order kept', () => {
    assert.deepEqual(convert('tags-duplicated-keep-first-order.json', 'complete').tags, [
      'high_packet_loss',
      'high_jitter',
      'silence',
    ]);
  });

  test('numbers as strings parse; absent processing_version is 0; offsets in timestamps', () => {
    const record = convert('numbers-as-strings-processing-version-absent.json', 'partial');
    assert.equal(record.processingVersion, 0);
    assert.equal(record.durationSeconds, 71);
    assert.equal(record.postDialDelaySeconds, 0.73);
    assert.equal(record.queueTimeSeconds, 0.045);
    assert.equal(record.startTime, Date.UTC(2025, 2, 14, 18, 4, 51, 204));
    assert.equal(record.endTime, Date.UTC(2025, 2, 14, 18, 6, 2));
    assert.equal(record.edges[0]?.inbound?.codec, 'g729');
    assert.equal(record.edges[0]?.inbound?.jitterMaxSeconds, 0.0045);
    assert.equal(record.from.number, undefined);
  });
});

describe('call-summary rejections', () => {
  const envelope = (data: unknown) => ({
    info: {
      id: 'EZ1',
      type: 'com.twilio.voice.insights.call-summary.complete',
      schemaName: undefined,
      schemaVersion: undefined,
      time: undefined,
    },
    data,
  });

  test('call_sid is the only required field', () => {
    const ok = convertCallSummary('complete')(envelope({ call_sid: 'CA000000000000000000000000000001' }));
    assert.ok(ok.ok);
    const missing = convertCallSummary('complete')(envelope({ tags: [] }));
    assert.ok(!missing.ok);
    assert.deepEqual(
      missing.issues.map((issue) => issue.path),
      ['data.call_sid'],
    );
  });

  test('wrongly typed nested values are reported by path without their value', () => {
    const secret = '+1-SECRET-555-0100-caller-pii';
    const result = convertCallSummary('complete')(
      envelope({
        call_sid: 'CA1',
        tags: ['ok', 7],
        properties: { pdd_ms: secret },
        sdk_edge: { metrics: { inbound: { mos: { avg: secret } } } },
        start_time: secret,
      }),
    );
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((issue) => issue.path).sort(), [
      'data.properties.pdd_ms',
      'data.sdk_edge.metrics.inbound.mos.avg',
      'data.start_time',
      'data.tags.1',
    ]);
    assert.ok(!JSON.stringify(result.issues).includes(secret));
  });
});

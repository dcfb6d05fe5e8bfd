import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { LabelLimiter, looksLikeIdentifier, OVERFLOW_VALUE, UNKNOWN_VALUE } from '../../src/telemetry/label-limiter.js';

test('identifiers are recognised, ordinary label values are not', () => {
  for (const id of [
    'CA0de4d68035f5f8c77773b0db2daad3fa',
    '+14155550123',
    '415 555 0123',
    '10.1.2.3',
    'fe80::1',
    'sip:bob@example.com',
    'client:alice',
    'x'.repeat(65),
  ]) {
    assert.ok(looksLikeIdentifier(id), id);
  }
  for (const ok of [
    'pcmu',
    'opus',
    'us1',
    'de1',
    'high-jitter',
    'network-quality-warning-raised',
    'call.connected',
    'outbound_api',
    'ERROR',
    'g729',
    '31600',
  ]) {
    assert.ok(!looksLikeIdentifier(ok), ok);
  }
});

test('per metric and label, the first N values pass, later ones fold, known ones keep passing', () => {
  const overflows: string[] = [];
  const limiter = new LabelLimiter(2, (m, l) => overflows.push(`${m}/${l}`));
  assert.equal(limiter.value('m', 'codec', 'pcmu'), 'pcmu');
  assert.equal(limiter.value('m', 'codec', 'opus'), 'opus');
  assert.equal(limiter.value('m', 'codec', 'g729'), OVERFLOW_VALUE);
  assert.equal(limiter.value('m', 'codec', 'pcmu'), 'pcmu');
  assert.equal(limiter.value('m', 'region', 'us1'), 'us1', 'another label has its own budget');
  assert.equal(limiter.value('m', 'codec', undefined), UNKNOWN_VALUE);
  assert.equal(limiter.value('m', 'codec', ''), UNKNOWN_VALUE);
  assert.deepEqual(overflows, ['m/codec']);
});

test('an event name or group with a phone number or IP inside never becomes a label value', () => {
  const overflows: string[] = [];
  const limiter = new LabelLimiter(100, (m, l) => overflows.push(`${m}/${l}`));
  const metric = 'twilio_voice_call_events_total';
  for (const [label, value] of [
    ['name', 'call.forwarded.to.+14155550123'],
    ['name', 'dialed 415 555 0123'],
    ['group', 'call 198.51.100.23'],
    ['group', 'ice-2001:db8::42'],
  ] as const) {
    assert.equal(limiter.value(metric, label, value), OVERFLOW_VALUE, value);
  }
  assert.equal(limiter.value(metric, 'name', 'call.connected'), 'call.connected');
  assert.equal(overflows.length, 4);
});

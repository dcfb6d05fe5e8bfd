// redactPii, and what the trace builder puts on spans with PII hidden: a phone number or an IP inside
// an event's name, group or edge fields never reaches a span event (EXPOSE_PII unset).
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { REDACTED, redactPii } from '../../src/calls/redact.js';
import { newCallState } from '../../src/calls/call-state.js';
import { buildLateEventSpan, buildRootSpan } from '../../src/calls/trace-builder.js';
import { convertCallEvent } from '../../src/events/call-events.js';
import type { CallEventRecord } from '../../src/events/types.js';
import { parseEnvelope } from '../../src/events/envelope.js';
import { loadFixtureEvents } from '../support/fixtures.js';

describe('redactPii', () => {
  test('phone numbers: E.164, with separators, national', () => {
    assert.equal(redactPii('+14155550123'), REDACTED);
    assert.equal(redactPii('call.forwarded.to.+14155550123'), `call.forwarded.to.${REDACTED}`);
    assert.equal(redactPii('dialed +44 20 7946 0958 twice'), `dialed ${REDACTED} twice`);
    assert.equal(redactPii('from (415) 555-0123'), `from ${REDACTED}`);
    assert.equal(redactPii('to 4155550123.'), `to ${REDACTED}.`);
  });

  test('IPv4 and IPv6 addresses, with ports and zones', () => {
    assert.equal(redactPii('ice-10.1.2.3'), `ice-${REDACTED}`);
    assert.equal(redactPii('media 203.0.113.24:5060'), `media ${REDACTED}:5060`);
    assert.equal(redactPii('fe80::1'), REDACTED);
    assert.equal(redactPii('peer 2001:db8::8a2e:370:7334 lost'), `peer ${REDACTED} lost`);
    assert.equal(redactPii('2001:0db8:85a3:0000:0000:8a2e:0370:7334'), REDACTED);
    assert.equal(redactPii('mapped ::ffff:192.0.2.128'), `mapped ${REDACTED}`);
    assert.equal(redactPii('zone fe80::1%eth0 up'), `zone ${REDACTED} up`);
  });

  test('several in one text', () => {
    assert.equal(redactPii('+14155550123 via 10.0.0.7'), `${REDACTED} via ${REDACTED}`);
  });

  test('ordinary event names, groups, edges and codes are left alone', () => {
    for (const text of [
      'call.connected',
      'network-quality-warning-raised',
      'high-jitter',
      'carrier_edge',
      'ashburn-ix',
      'us1',
      'de1',
      'error 31600',
      'g729',
      'sdk::warning',
      'at 15:21:02',
      'v2.10.1',
      'dead:beef',
    ]) {
      assert.equal(redactPii(text), text);
    }
  });
});

/** The gateway call-connected fixture with `data` fields replaced, converted to a CallEventRecord. */
function gatewayEvent(data: Record<string, unknown>): CallEventRecord {
  const [fixture] = loadFixtureEvents('call-events/gateway-call-connected.json');
  assert.ok(fixture !== undefined);
  const element = { ...fixture, data: { ...(fixture['data'] as Record<string, unknown>), ...data } };
  const parsed = parseEnvelope(element);
  assert.ok(parsed.ok);
  const converted = convertCallEvent('gateway')(parsed.envelope);
  assert.ok(converted.ok, JSON.stringify(converted));
  return converted.value;
}

const PHONE = '14155550123';
const IP = '198.51.100.23';
const V6 = '2001:db8::42';

const hostile = () =>
  gatewayEvent({
    name: `call.forwarded.to.+${PHONE}`,
    group: `call ${IP}`,
    edge: `+${PHONE}`,
    carrier_edge: { metadata: { region: `us1 ${V6}`, edge_location: `+${PHONE}` } },
  });

describe('span events built with PII hidden', () => {
  test('the root span event carries no phone number or IP from name, group or edge fields', () => {
    const event = hostile();
    const state = newCallState(event.callSid, event.accountSid, event.timestamp);
    state.events.push(event);
    const span = buildRootSpan(state, 'idle', { exposePii: false });
    const [spanEvent] = span.events;
    assert.ok(spanEvent !== undefined);
    const text = JSON.stringify(spanEvent);
    for (const secret of [PHONE, IP, V6]) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.equal(spanEvent.name, `call ${REDACTED}.call.forwarded.to.${REDACTED}`);
    assert.equal(spanEvent.attributes['twilio.event.name'], `call.forwarded.to.${REDACTED}`);
    assert.equal(spanEvent.attributes['twilio.event.group'], `call ${REDACTED}`);
    assert.equal(spanEvent.attributes['twilio.edge'], 'carrier_edge');
    assert.equal(spanEvent.attributes['twilio.edge_location'], REDACTED);
    assert.equal(spanEvent.attributes['twilio.region'], `us1 ${REDACTED}`);
  });

  test('a late event span is redacted the same way', () => {
    const span = buildLateEventSpan(hostile(), 'EZ00000000000000000000000000000f01', { exposePii: false });
    const text = JSON.stringify(span);
    for (const secret of [PHONE, IP, V6]) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  });

  test('with EXPOSE_PII the fields are shown as sent', () => {
    const span = buildLateEventSpan(hostile(), 'EZ00000000000000000000000000000f02', { exposePii: true });
    const [spanEvent] = span.events;
    assert.equal(spanEvent?.attributes['twilio.event.name'], `call.forwarded.to.+${PHONE}`);
    assert.equal(spanEvent?.attributes['twilio.event.group'], `call ${IP}`);
    assert.equal(spanEvent?.attributes['twilio.region'], `us1 ${V6}`);
  });

  test('ordinary names are unchanged with PII hidden', () => {
    const span = buildLateEventSpan(gatewayEvent({}), 'EZ00000000000000000000000000000f03', { exposePii: false });
    assert.equal(span.events[0]?.name, 'call.connected');
    assert.equal(span.events[0]?.attributes['twilio.edge_location'], 'ashburn');
    assert.equal(span.events[0]?.attributes['twilio.region'], 'us1');
  });
});

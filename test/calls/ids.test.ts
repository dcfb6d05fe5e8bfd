// Trace and span ids derived from the CallSid (DESIGN section 5): a user finds a call's trace by its
// CallSid, and every process, before or after a restart, lands in the same trace.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { lateSpanIdFor, rootSpanIdFor, traceIdFor } from '../../src/calls/ids.js';
import { callSid } from '../support/events.js';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

describe('traceIdFor', () => {
  test('is the CallSid hex digits, lowercased (the README example)', () => {
    assert.equal(traceIdFor('CA0de4d68035f5f8c77773b0db2daad3fa'), '0de4d68035f5f8c77773b0db2daad3fa');
  });

  test('lowercases mixed-case hex: the same call in any case is the same trace', () => {
    const mixed = 'CA0DE4d68035F5f8C77773b0DB2daad3FA';
    assert.equal(traceIdFor(mixed), '0de4d68035f5f8c77773b0db2daad3fa');
    assert.equal(traceIdFor('CAABCDEFABCDEFABCDEFABCDEFABCDEFAB'), 'abcdefabcdefabcdefabcdefabcdefab');
  });

  test('every test CallSid maps to its own hex digits', () => {
    for (const name of ['a', 'b', 'c']) {
      const sid = callSid(name);
      assert.equal(traceIdFor(sid), sid.slice(2).toLowerCase());
    }
  });

  test('a non-conforming sid is hashed: 32 lowercase hex, deterministic, not all zero, not its own digits', () => {
    for (const sid of [
      'CA123',
      'call-without-prefix',
      'CA0de4d68035f5f8c77773b0db2daad3fz',
      'ca0de4d68035f5f8c77773b0db2daad3fa',
      'CA0de4d68035f5f8c77773b0db2daad3fa0',
      '',
    ]) {
      const id = traceIdFor(sid);
      assert.match(id, HEX32, sid);
      assert.notEqual(id, '0'.repeat(32), sid);
      assert.equal(traceIdFor(sid), id, `deterministic for ${JSON.stringify(sid)}`);
    }
    // Hashed, not truncated or padded digits of the input.
    assert.notEqual(traceIdFor('CA0de4d68035f5f8c77773b0db2daad3fa0'), '0de4d68035f5f8c77773b0db2daad3fa');
    assert.notEqual(traceIdFor('CA123'), traceIdFor('CA124'));
  });

  test('a CallSid whose hex is all zero still gets a valid (non-zero) trace id', () => {
    const id = traceIdFor(`CA${'0'.repeat(32)}`);
    assert.match(id, HEX32);
    assert.notEqual(id, '0'.repeat(32));
  });
});

describe('rootSpanIdFor', () => {
  test('is 16 lowercase hex, deterministic, not all zero', () => {
    const sid = callSid('root-a');
    const id = rootSpanIdFor(sid);
    assert.match(id, HEX16);
    assert.notEqual(id, '0'.repeat(16));
    assert.equal(rootSpanIdFor(sid), id);
  });

  test('differs per call', () => {
    const ids = new Set(Array.from({ length: 200 }, (_, i) => rootSpanIdFor(callSid(`root-${i}`))));
    assert.equal(ids.size, 200);
  });

  test('is not a slice of the trace id (a backend would otherwise show it as a duplicate of the trace)', () => {
    const sid = callSid('root-b');
    assert.ok(!traceIdFor(sid).includes(rootSpanIdFor(sid)));
  });
});

describe('lateSpanIdFor', () => {
  test('is deterministic per CloudEvent id: a redelivery maps to the same span', () => {
    const sid = callSid('late-a');
    const id = lateSpanIdFor(sid, 'EZ00000000000000000000000000000001');
    assert.match(id, HEX16);
    assert.equal(lateSpanIdFor(sid, 'EZ00000000000000000000000000000001'), id);
  });

  test('differs per CloudEvent id, per call, and from the root span id', () => {
    const sid = callSid('late-b');
    const a = lateSpanIdFor(sid, 'EZ00000000000000000000000000000001');
    const b = lateSpanIdFor(sid, 'EZ00000000000000000000000000000002');
    assert.notEqual(a, b);
    assert.notEqual(a, lateSpanIdFor(callSid('late-c'), 'EZ00000000000000000000000000000001'));
    assert.notEqual(a, rootSpanIdFor(sid));
    assert.notEqual(b, rootSpanIdFor(sid));
  });
});

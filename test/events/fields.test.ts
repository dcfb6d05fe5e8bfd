import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { z } from 'zod';
import {
  count,
  isoTimestamp,
  msToSeconds,
  num,
  numberField,
  optBoolean,
  optLowerString,
  optString,
  parseIsoTimestamp,
  percentToRatio,
  requiredId,
  resolveEdge,
  shiftDecimal,
  statField,
  toFieldIssues,
} from '../../src/events/fields.js';

function ok<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  assert.ok(parsed.success, `expected success for ${JSON.stringify(input)}`);
  return parsed.data;
}

function fails(schema: z.ZodType, input: unknown): string[] {
  const parsed = schema.safeParse(input);
  assert.ok(!parsed.success, `expected failure for ${JSON.stringify(input)}`);
  return parsed.error.issues.map((issue) => issue.message);
}

describe('tolerant numbers', () => {
  test('numbers pass, numeric strings are parsed, null/absent/"" are no value', () => {
    assert.equal(ok(num, 4.39), 4.39);
    assert.equal(ok(num, 0), 0);
    assert.equal(ok(num, '81'), 81);
    assert.equal(ok(num, ' 2.5 '), 2.5);
    assert.equal(ok(num, '-1e3'), -1000);
    assert.equal(ok(num, null), undefined);
    assert.equal(ok(num, undefined), undefined);
    assert.equal(ok(num, ''), undefined);
  });

  test('non-numeric strings, NaN/Infinity and other types are issues', () => {
    for (const bad of ['abc', '0x10', 'Infinity', 'NaN', '1,5', true, {}, [], Number.NaN, Number.POSITIVE_INFINITY]) {
      fails(num, bad);
    }
  });

  test('units: ms -> s and % -> ratio convert exactly', () => {
    assert.equal(ok(msToSeconds, 1.48209), 0.00148209);
    assert.equal(ok(msToSeconds, 0.483035), 0.000483035);
    assert.equal(ok(msToSeconds, '81'), 0.081);
    assert.equal(ok(percentToRatio, 2.5), 0.025);
    assert.equal(ok(percentToRatio, 0), 0);
    assert.equal(ok(percentToRatio, 100), 1);
    assert.equal(ok(msToSeconds, 2.1), 0.0021, 'plain 2.1 / 1000 would be 0.0021000000000000003');
    assert.equal(ok(msToSeconds, 0.52), 0.00052);
    assert.equal(ok(percentToRatio, 0.15), 0.0015);
  });

  test('shiftDecimal moves the decimal point on the written digits', () => {
    assert.equal(shiftDecimal(1.48209, 3), 0.00148209);
    assert.equal(shiftDecimal(31.7, 3), 0.0317);
    assert.equal(shiftDecimal(-0.5, 2), -0.005);
    assert.equal(shiftDecimal(1e21, 3), 1e18);
    assert.equal(shiftDecimal(5e-324, 0), 5e-324);
    assert.equal(shiftDecimal(0, 3), 0);
  });

  test('range rules: counts are not negative, percentages stay within 0..100', () => {
    fails(count, -1);
    fails(percentToRatio, 250);
    fails(percentToRatio, -0.5);
    fails(msToSeconds, -3);
  });
});

describe('optional strings', () => {
  test('null, "", whitespace and unknown_* sentinels are no value', () => {
    for (const none of [
      null,
      undefined,
      '',
      '   ',
      'unknown_edge',
      'unknown_codec_name',
      'unknown_realm',
      'unknown_disconnected_by',
      'UNKNOWN_REALM',
    ]) {
      assert.equal(ok(optString, none), undefined, String(none));
    }
  });

  test('real values are kept (trimmed); "unknown" alone is a real AMD value', () => {
    assert.equal(ok(optString, ' us1 '), 'us1');
    assert.equal(ok(optString, 'unknown'), 'unknown');
    assert.equal(ok(optLowerString, 'PCMU'), 'pcmu');
  });

  test('non-strings are issues', () => {
    fails(optString, 5);
  });

  test('requiredId: non-blank, capped, no SID regex (doc placeholders are 33 chars)', () => {
    assert.equal(ok(requiredId, 'CA000000000000000000000000000001'), 'CA000000000000000000000000000001');
    fails(requiredId, '');
    fails(requiredId, '  ');
    fails(requiredId, 'x'.repeat(257));
    fails(requiredId, undefined);
  });

  test('optBoolean accepts booleans and "true"/"false"', () => {
    assert.equal(ok(optBoolean, true), true);
    assert.equal(ok(optBoolean, 'false'), false);
    assert.equal(ok(optBoolean, null), undefined);
    fails(optBoolean, 'yes');
  });
});

describe('ISO-8601 timestamps', () => {
  test('Twilio forms parse to epoch ms', () => {
    assert.equal(parseIsoTimestamp('2021-05-24T14:15:22Z'), Date.UTC(2021, 4, 24, 14, 15, 22));
    assert.equal(parseIsoTimestamp('2020-07-23T22:56:33.000Z'), Date.UTC(2020, 6, 23, 22, 56, 33));
    assert.equal(parseIsoTimestamp('2023-10-05T14:48:00.123456Z'), Date.UTC(2023, 9, 5, 14, 48, 0, 123));
    assert.equal(parseIsoTimestamp('2025-03-14T18:06:02+00:00'), Date.UTC(2025, 2, 14, 18, 6, 2));
    assert.equal(parseIsoTimestamp('2025-03-14T20:06:02+02:00'), Date.UTC(2025, 2, 14, 18, 6, 2));
    assert.equal(parseIsoTimestamp('2025-03-14T13:06:02-0500'), Date.UTC(2025, 2, 14, 18, 6, 2));
    assert.equal(
      parseIsoTimestamp('2025-03-14 18:06:02'),
      Date.UTC(2025, 2, 14, 18, 6, 2),
      'zone-less is UTC, not local time',
    );
    assert.equal(parseIsoTimestamp('2025-03-14'), Date.UTC(2025, 2, 14));
  });

  test('non-ISO and impossible dates are undefined', () => {
    for (const bad of [
      '14/03/2025 15:21:02',
      'March 14 2025',
      '2025-02-30T00:00:00Z',
      '2025-13-01T00:00:00Z',
      '2025-03-14T25:00:00Z',
      '1710428400000',
      '',
    ]) {
      assert.equal(parseIsoTimestamp(bad), undefined, bad);
    }
  });

  test('isoTimestamp schema: empty/null -> undefined, garbage -> issue', () => {
    assert.equal(ok(isoTimestamp, null), undefined);
    assert.equal(ok(isoTimestamp, ''), undefined);
    fails(isoTimestamp, 'yesterday');
    fails(isoTimestamp, 1710428400000);
  });
});

describe('stat objects', () => {
  test('only the sub-fields sent are set, converted by the divisor', () => {
    assert.deepEqual(ok(statField(3), { max: 1.48209, avg: 0.483035 }), { max: 0.00148209, avg: 0.000483035 });
    assert.deepEqual(ok(statField(), { value: 4.39 }), { value: 4.39 });
    assert.deepEqual(ok(statField(), { min: 0 }), { min: 0 });
  });

  test('null, {} and all-null stats are no value', () => {
    assert.equal(ok(statField(), null), undefined);
    assert.equal(ok(statField(), {}), undefined);
    assert.equal(ok(statField(), { min: null, max: null, avg: null, value: null }), undefined);
  });
});

describe('toFieldIssues', () => {
  const schema = z.object({ a: z.object({ b: z.array(num) }) });

  test('dotted paths prefixed with data., messages without payload values', () => {
    const secret = 'sk_live_SECRET_0123456789abcdef';
    const parsed = schema.safeParse({ a: { b: [1, secret] } });
    assert.ok(!parsed.success);
    const issues = toFieldIssues(parsed.error);
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ['data.a.b.1'],
    );
    assert.ok(!JSON.stringify(issues).includes(secret));
  });

  test('without a prefix, top-level paths are bare; the list is capped', () => {
    const parsed = z.object({ values: z.array(num) }).safeParse({ values: Array.from({ length: 50 }, () => 'x') });
    assert.ok(!parsed.success);
    const issues = toFieldIssues(parsed.error, '');
    assert.equal(issues.length, 21);
    assert.equal(issues[0]?.path, 'values.0');
    assert.equal(issues[20]?.message, '30 more issues not shown');
  });
});

describe('resolveEdge', () => {
  test('the non-null edge object wins over the edge field', () => {
    assert.deepEqual(resolveEdge('unknown_edge', { carrier_edge: {}, sdk_edge: null }, 'gateway'), {
      edge: 'carrier_edge',
      locationFromEdgeField: undefined,
    });
  });

  test('several edge objects: the one the edge field names, else by source', () => {
    assert.equal(resolveEdge('sip_edge', { carrier_edge: {}, sip_edge: {} }, 'gateway').edge, 'sip_edge');
    assert.equal(resolveEdge(undefined, { client_edge: {}, sdk_edge: {} }, 'sdk').edge, 'sdk_edge');
    assert.equal(resolveEdge(undefined, { client_edge: {}, sdk_edge: {} }, 'gateway').edge, 'client_edge');
  });

  test('no edge object: the edge field if it is a media edge; a location goes to locationFromEdgeField', () => {
    assert.deepEqual(resolveEdge('SDK_EDGE', {}, 'sdk'), { edge: 'sdk_edge', locationFromEdgeField: undefined });
    assert.deepEqual(resolveEdge('ashburn', {}, 'gateway'), { edge: undefined, locationFromEdgeField: 'ashburn' });
    assert.deepEqual(resolveEdge('sao-paulo', { carrier_edge: {} }, 'gateway'), {
      edge: 'carrier_edge',
      locationFromEdgeField: 'sao-paulo',
    });
    assert.deepEqual(resolveEdge('not a location!', {}, 'gateway'), {
      edge: undefined,
      locationFromEdgeField: undefined,
    });
  });
});

test('numeric strings longer than any number Twilio sends are refused before pattern matching', () => {
  const schema = numberField();
  assert.equal(schema.safeParse(`${'1'.repeat(1_000_000)}x`).success, false);
  assert.equal(schema.safeParse('1'.repeat(65)).success, false);
  const longest = schema.safeParse(`0.${'5'.repeat(62)}`);
  assert.ok(longest.success && longest.data !== undefined && Math.abs(longest.data - 0.5555555555555556) < 1e-15);
});

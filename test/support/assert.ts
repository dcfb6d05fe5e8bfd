// node:assert/strict for tests running under jest. Jest runs each test file in its own V8 context, so
// arrays and objects made by node's built-ins (fs, fetch().json(), JSON.parse in src/) have another
// realm's prototypes than literals written in the test, and node's strict deep equality, which compares
// prototypes, would fail on equal data. The deep comparisons here first rebuild plain arrays and objects
// in this realm (other values are left as they are) and then compare exactly as node:assert/strict does.
import strict from 'node:assert/strict';

function sameRealm(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value as unknown[]) copy.push(sameRealm(item, seen));
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  const plain = proto === null || (typeof proto === 'object' && Object.getPrototypeOf(proto) === null);
  if (!plain) return value;
  const copy: Record<string, unknown> = proto === null ? (Object.create(null) as Record<string, unknown>) : {};
  seen.set(value, copy);
  for (const [k, v] of Object.entries(value)) copy[k] = sameRealm(v, seen);
  return copy;
}

function deepEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  strict.deepStrictEqual(sameRealm(actual), sameRealm(expected), message);
}

function notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  strict.notDeepStrictEqual(sameRealm(actual), sameRealm(expected), message);
}

const assert: typeof strict = Object.assign(
  function ok(value: unknown, message?: string | Error): asserts value {
    strict.ok(value, message);
  },
  strict,
  { deepEqual, deepStrictEqual: deepEqual, notDeepEqual, notDeepStrictEqual: notDeepEqual },
);

export default assert;

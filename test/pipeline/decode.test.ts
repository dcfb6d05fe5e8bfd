// decodeBody: the JSON body -> candidate CloudEvents, with the per-request element cap checked before
// anything looks at an element (MAX_EVENTS_PER_REQUEST; a 1 MiB body holds ~350k `{}`).
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { loadConfig } from '../../src/config.js';
import { ExporterError } from '../../src/errors.js';
import { decodeBody } from '../../src/pipeline/decode.js';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const elements = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `EZ${i}`, type: 't' }));

function decodeError(raw: Buffer, max: number): ExporterError {
  try {
    decodeBody(raw, max);
  } catch (err) {
    assert.ok(err instanceof ExporterError, String(err));
    return err;
  }
  assert.fail('expected decodeBody to throw');
}

describe('decodeBody element cap', () => {
  test('exactly the cap is decoded; one more is payload_too_large / too_many_events', () => {
    assert.equal(decodeBody(body(elements(5)), 5).length, 5);
    const err = decodeError(body(elements(6)), 5);
    assert.equal(err.kind, 'payload_too_large');
    assert.equal(err.code, 'too_many_events');
    assert.match(err.message, /MAX_EVENTS_PER_REQUEST \(5\)/);
  });

  test('the cap is checked on the element count alone, whatever the elements are', () => {
    // 349,258 `{}` is what one signed 1 MiB body holds; refused on its length alone.
    const raw = Buffer.from(`[${new Array<string>(349_258).fill('{}').join(',')}]`);
    assert.equal(decodeError(raw, 1000).code, 'too_many_events');
    assert.equal(decodeError(body([...elements(3), null, 1]), 4).code, 'too_many_events');
  });

  test('a single CloudEvent object counts as one element', () => {
    assert.deepEqual(decodeBody(body({ id: 'EZ1', type: 't' }), 1), [{ id: 'EZ1', type: 't' }]);
  });

  test('not JSON, an empty array and scalars stay 400s', () => {
    assert.equal(decodeError(Buffer.from('[{'), 10).code, 'invalid_json');
    assert.equal(decodeError(body([]), 10).code, 'no_cloudevents');
    assert.equal(decodeError(body(42), 10).kind, 'bad_request');
  });

  test('MAX_EVENTS_PER_REQUEST defaults to 1000 and is configurable', () => {
    const defaults = loadConfig({});
    assert.ok(defaults.ok);
    assert.equal(defaults.config.maxEventsPerRequest, 1000);
    const set = loadConfig({ MAX_EVENTS_PER_REQUEST: '25' });
    assert.ok(set.ok);
    assert.equal(set.config.maxEventsPerRequest, 25);
  });
});

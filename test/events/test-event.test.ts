import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { convertSinkTest } from '../../src/events/test-event.js';
import { fixtureEnvelope } from '../support/fixtures.js';

describe('com.twilio.eventstreams.test-event', () => {
  test('data as a JSON string (the Kinesis quickstart example shape)', () => {
    assert.deepEqual(convertSinkTest(fixtureEnvelope('test-event/sink-test.json')), {
      ok: true,
      value: { kind: 'sink-test', testId: 'df991496-e2ef-472f-b0cf-296448a100f7' },
    });
  });

  test('data as an object', () => {
    assert.deepEqual(convertSinkTest(fixtureEnvelope('test-event/sink-test-data-object.json')), {
      ok: true,
      value: { kind: 'sink-test', testId: '4c1b7e52-90d3-4a6f-8e21-7f3b9c0d5a18' },
    });
  });

  test('no data at all is still a valid sink test (it must be acked)', () => {
    assert.deepEqual(convertSinkTest(fixtureEnvelope('test-event/sink-test-without-data.json')), {
      ok: true,
      value: { kind: 'sink-test', testId: undefined },
    });
  });

  test('a test_id of the wrong type is an issue at data.test_id', () => {
    const result = convertSinkTest({
      info: {
        id: 'EZ1',
        type: 'com.twilio.eventstreams.test-event',
        schemaName: undefined,
        schemaVersion: undefined,
        time: undefined,
      },
      data: { test_id: 12 },
    });
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((issue) => issue.path),
      ['data.test_id'],
    );
  });
});

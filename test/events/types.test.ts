import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { EVENT_TYPES, isEventType } from '../../src/events/types.js';

test('the seven Call Insights types and the sink test event are known', () => {
  assert.equal(EVENT_TYPES.length, 8);
  assert.ok(isEventType('com.twilio.voice.insights.call-summary.complete'));
  assert.ok(!isEventType('com.twilio.voice.insights.conference-summary.complete'));
});

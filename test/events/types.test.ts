import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { EVENT_TYPES, isEventType } from '../../src/events/types.js';

test('the seven Call Insights types, the Conference Insights types (both participant spellings) and the sink test event are known', () => {
  assert.equal(EVENT_TYPES.length, 12);
  assert.ok(isEventType('com.twilio.voice.insights.call-summary.complete'));
  // Reference section 7: the event-type page and the Conference Insights guide spell the participant type differently.
  for (const type of [
    'com.twilio.voice.insights.conference-summary.partial',
    'com.twilio.voice.insights.conference-summary.complete',
    'com.twilio.voice.insights.conference-participant-summary.complete',
    'com.twilio.voice.insights.participant-summary.complete',
  ])
    assert.ok(isEventType(type), type);
  assert.ok(!isEventType('com.twilio.voice.insights.conference-participant-summary.partial'));
  assert.ok(!isEventType('com.twilio.voice.insights.participant-summary.partial'));
});

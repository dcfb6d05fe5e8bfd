// Dispatch table: CloudEvent type -> converter. A Record over EventType, so adding a type to
// EVENT_TYPES without a converter here is a compile error.
import type { Converter } from './family.js';
import type { ConvertedEvent, EventType } from './types.js';
import { convertCallEvent } from './call-events.js';
import { convertCallMetric } from './call-metrics.js';
import { convertCallSummary } from './call-summary.js';
import { convertSinkTest } from './test-event.js';

export const FAMILIES: Readonly<Record<EventType, Converter<ConvertedEvent>>> = Object.freeze({
  'com.twilio.voice.insights.call-event.gateway': convertCallEvent('gateway'),
  'com.twilio.voice.insights.call-event.sdk': convertCallEvent('sdk'),
  'com.twilio.voice.insights.call-metrics.gateway': convertCallMetric('gateway'),
  'com.twilio.voice.insights.call-metrics.sdk': convertCallMetric('sdk'),
  'com.twilio.voice.insights.call-summary.partial': convertCallSummary('partial'),
  'com.twilio.voice.insights.call-summary.predicted-complete': convertCallSummary('predicted-complete'),
  'com.twilio.voice.insights.call-summary.complete': convertCallSummary('complete'),
  'com.twilio.eventstreams.test-event': convertSinkTest,
});

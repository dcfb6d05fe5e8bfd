// Dispatch table: CloudEvent type -> converter. A Record over EventType, so adding a type to
// EVENT_TYPES without a converter here is a compile error.
import type { Converter } from './family.js';
import type { ConvertedEvent, EventType } from './types.js';
import { convertCallEvent } from './call-events.js';
import { convertCallMetric } from './call-metrics.js';
import { convertCallSummary } from './call-summary.js';
import { convertParticipantSummary } from './conference-participant-summary.js';
import { convertConferenceSummary } from './conference-summary.js';
import { convertSinkTest } from './test-event.js';

/** A `data` the envelope could not decode fails every family's schema, at path `data`. */
function withDecodedData<T>(convert: Converter<T>): Converter<T> {
  return (envelope) =>
    envelope.dataIssue === undefined ? convert(envelope) : { ok: false, issues: [envelope.dataIssue] };
}

export const FAMILIES: Readonly<Record<EventType, Converter<ConvertedEvent>>> = Object.freeze({
  'com.twilio.voice.insights.call-event.gateway': withDecodedData(convertCallEvent('gateway')),
  'com.twilio.voice.insights.call-event.sdk': withDecodedData(convertCallEvent('sdk')),
  'com.twilio.voice.insights.call-metrics.gateway': withDecodedData(convertCallMetric('gateway')),
  'com.twilio.voice.insights.call-metrics.sdk': withDecodedData(convertCallMetric('sdk')),
  'com.twilio.voice.insights.call-summary.partial': withDecodedData(convertCallSummary('partial')),
  'com.twilio.voice.insights.call-summary.predicted-complete': withDecodedData(
    convertCallSummary('predicted-complete'),
  ),
  'com.twilio.voice.insights.call-summary.complete': withDecodedData(convertCallSummary('complete')),
  'com.twilio.voice.insights.conference-summary.partial': withDecodedData(convertConferenceSummary('partial')),
  'com.twilio.voice.insights.conference-summary.complete': withDecodedData(convertConferenceSummary('complete')),
  'com.twilio.voice.insights.conference-participant-summary.complete': withDecodedData(convertParticipantSummary),
  'com.twilio.voice.insights.participant-summary.complete': withDecodedData(convertParticipantSummary),
  'com.twilio.eventstreams.test-event': withDecodedData(convertSinkTest),
});

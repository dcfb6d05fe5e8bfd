// `com.twilio.voice.insights.conference-summary.partial|complete` (schema VoiceInsights.ConferenceSummary
// v1/v2) -> ConferenceSummaryRecord. The partial comes with the conference-start event, the complete
// one with the conference-end event (reference section 7); each is a full snapshot of the conference.
// Fields: https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-summary-resource
// (the summary events mirror the REST resource). Only conference_sid is required.
import { z } from 'zod';
import type { Converter } from './family.js';
import type { ConferenceSummaryRecord, ConferenceSummaryStage } from './types.js';
import {
  count,
  countMap,
  isoTimestamp,
  optBoolean,
  optLowerString,
  optString,
  requiredId,
  tagList,
  toFieldIssues,
} from './fields.js';

export const conferenceSummaryDataSchema = z.object({
  conference_sid: requiredId,
  account_sid: optString,
  friendly_name: optString,
  create_time: isoTimestamp,
  start_time: isoTimestamp,
  end_time: isoTimestamp,
  duration_seconds: count,
  connect_duration_seconds: count,
  status: optLowerString,
  processing_state: optLowerString,
  max_participants: count,
  max_concurrent_participants: count,
  unique_participants: count,
  end_reason: optLowerString,
  ended_by: optString,
  mixer_region: optLowerString,
  mixer_region_requested: optLowerString,
  recording_enabled: optBoolean,
  // An object of counts per issue family in the REST examples; its shape is not specified, so an
  // odd one is dropped rather than failing the summary.
  detected_issues: countMap,
  tags: tagList,
});

export function convertConferenceSummary(stage: ConferenceSummaryStage): Converter<ConferenceSummaryRecord> {
  return (envelope) => {
    const parsed = conferenceSummaryDataSchema.safeParse(envelope.data);
    if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
    const d = parsed.data;
    return {
      ok: true,
      value: {
        kind: 'conference-summary',
        conferenceSid: d.conference_sid,
        accountSid: d.account_sid,
        stage,
        friendlyName: d.friendly_name,
        createTime: d.create_time,
        startTime: d.start_time,
        endTime: d.end_time,
        durationSeconds: d.duration_seconds,
        connectDurationSeconds: d.connect_duration_seconds,
        status: d.status,
        processingState: d.processing_state,
        maxParticipants: d.max_participants,
        maxConcurrentParticipants: d.max_concurrent_participants,
        uniqueParticipants: d.unique_participants,
        endReason: d.end_reason,
        endedBy: d.ended_by,
        mixerRegion: d.mixer_region,
        mixerRegionRequested: d.mixer_region_requested,
        recordingEnabled: d.recording_enabled,
        detectedIssues: d.detected_issues,
        tags: d.tags,
      },
    };
  };
}

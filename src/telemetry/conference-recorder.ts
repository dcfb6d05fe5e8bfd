// Once-per-conference and once-per-participant metrics (DESIGN section 5b; reference section 7). The
// conference reducer hands over the conference's final summary and participants exactly once, when
// its trace is finalised, and each participant that arrives after that once more as a late one, so
// partial summaries, redelivered completes and repeated participant summaries never count twice.
// Labels take Twilio's documented values only (catalog CONFERENCE_* lists), else `other`.
import type { Meter } from '@opentelemetry/api';
import type { ConferenceSummaryRecord, ParticipantQuality, ParticipantSummaryRecord } from '../events/types.js';
import {
  CONFERENCE_END_REASONS,
  CONFERENCE_METRICS as M,
  CONFERENCE_STATUSES,
  CONFERENCE_TAGS,
  PARTICIPANT_CALL_TYPES,
  PARTICIPANT_DIRECTIONS,
} from './catalog.js';
import { createCounter, createHistogram } from './instruments.js';
import { UNKNOWN_VALUE, type LabelLimiter } from './label-limiter.js';

export interface ConferenceRecorder {
  /**
   * Records one finalised conference and the participants in its trace. Call it once per conference;
   * `summary` is undefined when the conference went idle before any conference summary came.
   */
  recordConference(
    summary: ConferenceSummaryRecord | undefined,
    participants: readonly ParticipantSummaryRecord[],
  ): void;
  /** Records participants that joined the conference's trace after it was finalised (late spans). */
  recordParticipants(participants: readonly ParticipantSummaryRecord[]): void;
}

/** Conference metrics share one family in label_overflow_total, like the once-per-call ones. */
const FAMILY = 'twilio_voice_conference*';

export function createConferenceRecorder(meter: Meter, limiter: LabelLimiter): ConferenceRecorder {
  const conferences = createCounter(meter, M.conferences);
  const tags = createCounter(meter, M.conferenceTags);
  const duration = createHistogram(meter, M.conferenceDuration);
  const counts = createHistogram(meter, M.conferenceParticipants);
  const participantsTotal = createCounter(meter, M.participants);
  const participantDuration = createHistogram(meter, M.participantDuration);
  const queue = createHistogram(meter, M.participantQueueTime);
  const mos = createHistogram(meter, M.participantMos);
  const jitter = createHistogram(meter, M.participantJitter);
  const loss = createHistogram(meter, M.participantPacketLoss);
  const label = (name: string, raw: string | undefined, values: readonly string[]) =>
    limiter.oneOf(FAMILY, name, raw, values);

  const recordParticipant = (p: ParticipantSummaryRecord) => {
    const callType = label('call_type', p.callType, PARTICIPANT_CALL_TYPES);
    participantsTotal.add(1, {
      call_type: callType,
      call_direction: label('call_direction', p.callDirection, PARTICIPANT_DIRECTIONS),
      role: p.isCoach === true ? 'coach' : p.isModerator === true ? 'moderator' : 'participant',
    });
    if (p.durationSeconds !== undefined) participantDuration.record(p.durationSeconds, { call_type: callType });
    // Only legs dialled out through the Participants API wait in Twilio's outbound queue.
    if (p.outboundTimeInQueueSeconds !== undefined && p.callDirection !== 'inbound')
      queue.record(p.outboundTimeInQueueSeconds, { call_type: callType });
    for (const [direction, q] of [
      ['inbound', p.inbound],
      ['outbound', p.outbound],
    ] as const) {
      recordStream(q, { call_type: callType, stream_direction: direction });
    }
  };

  const recordStream = (q: ParticipantQuality | undefined, labels: { call_type: string; stream_direction: string }) => {
    if (q === undefined) return;
    if (q.mos !== undefined) mos.record(q.mos, labels);
    if (q.jitterAvgSeconds !== undefined) jitter.record(q.jitterAvgSeconds, labels);
    if (q.packetLossRatio !== undefined) loss.record(q.packetLossRatio, labels);
  };

  return {
    recordConference(summary, participants) {
      if (summary === undefined) {
        conferences.add(1, { status: UNKNOWN_VALUE, end_reason: UNKNOWN_VALUE });
      } else {
        conferences.add(1, {
          status: label('status', summary.status, CONFERENCE_STATUSES),
          end_reason: label('end_reason', summary.endReason, CONFERENCE_END_REASONS),
        });
        // Once per conference and tag, even when two unlisted tags both fold into `other`.
        const seen = new Set(summary.tags.map((t) => label('tag', t, CONFERENCE_TAGS)));
        for (const tag of seen) tags.add(1, { tag });
        if (summary.durationSeconds !== undefined) duration.record(summary.durationSeconds, {});
        if (summary.maxConcurrentParticipants !== undefined)
          counts.record(summary.maxConcurrentParticipants, { kind: 'max_concurrent' });
        if (summary.uniqueParticipants !== undefined) counts.record(summary.uniqueParticipants, { kind: 'unique' });
      }
      for (const p of participants) recordParticipant(p);
    },
    recordParticipants(participants) {
      for (const p of participants) recordParticipant(p);
    },
  };
}

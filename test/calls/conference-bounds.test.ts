// The bounds a conference's stored record keeps (MAX_PARTICIPANTS_PER_CONFERENCE): legs past it are
// counted, not kept, and still count towards "every leg reported"; a finalised conference's tombstone
// stops growing at the same cap. Pure reducers, no store.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { reduceConferenceSummary, reduceParticipantSummary } from '../../src/calls/conference-reducer.js';
import { MAX_PARTICIPANTS_PER_CONFERENCE } from '../../src/calls/conference-state.js';
import { buildParticipantSpan } from '../../src/calls/conference-trace.js';
import { isConferenceRecord, type StoredCall } from '../../src/calls/ports.js';
import type { ReduceContext } from '../../src/calls/call-reducer.js';
import type { ConferenceSummaryRecord, ParticipantSummaryRecord } from '../../src/events/types.js';

const CONF = 'CF' + 'a'.repeat(32);
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const ctx = (eventId: string): ReduceContext => ({
  now: T0 + 60_000,
  eventId,
  receivedAt: T0 + 60_000,
  exposePii: false,
});

function leg(n: number): ParticipantSummaryRecord {
  const hex = n.toString(16).padStart(32, '0');
  return {
    kind: 'participant-summary',
    conferenceSid: CONF,
    participantSid: `CP${hex}`,
    callSid: `CA${hex}`,
    accountSid: undefined,
    label: undefined,
    callDirection: 'inbound',
    from: undefined,
    to: undefined,
    callStatus: 'completed',
    countryCode: undefined,
    isModerator: false,
    joinTime: T0,
    leaveTime: T0 + 30_000,
    durationSeconds: 30,
    outboundQueueLength: undefined,
    outboundTimeInQueueSeconds: undefined,
    jitterBufferSize: undefined,
    isCoach: false,
    coachedParticipants: [],
    participantRegion: undefined,
    conferenceRegion: undefined,
    callType: 'carrier',
    processingState: 'complete',
    properties: {},
    actions: [],
    inbound: undefined,
    outbound: undefined,
  };
}

function complete(unique: number): ConferenceSummaryRecord {
  return {
    kind: 'conference-summary',
    conferenceSid: CONF,
    accountSid: undefined,
    stage: 'complete',
    friendlyName: undefined,
    createTime: T0,
    startTime: T0,
    endTime: T0 + 40_000,
    durationSeconds: 40,
    connectDurationSeconds: 40,
    status: 'completed',
    processingState: 'complete',
    maxParticipants: 250,
    maxConcurrentParticipants: unique,
    uniqueParticipants: unique,
    endReason: 'last_participant_left',
    endedBy: undefined,
    mixerRegion: 'us1',
    mixerRegionRequested: undefined,
    recordingEnabled: false,
    detectedIssues: {},
    tags: [],
  };
}

function addLegs(from: number, to: number, stored: StoredCall | undefined): StoredCall | undefined {
  let current = stored;
  for (let n = from; n < to; n++)
    current = reduceParticipantSummary(current, leg(n), ctx(`EV-leg-${n}`)).next ?? current;
  return current;
}

test('legs past the cap are counted as dropped and still complete the conference', () => {
  const extra = 3;
  let stored = addLegs(0, MAX_PARTICIPANTS_PER_CONFERENCE + extra, undefined);
  assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'pending');
  assert.equal(stored.state.participants.length, MAX_PARTICIPANTS_PER_CONFERENCE);
  assert.equal(stored.state.droppedParticipants, extra);
  const change = reduceConferenceSummary(stored, complete(MAX_PARTICIPANTS_PER_CONFERENCE + extra), ctx('EV-complete'));
  stored = change.next;
  assert.ok(
    stored !== undefined && isConferenceRecord(stored) && stored.status === 'finalised',
    'finalised, not waiting for the idle timeout',
  );
  const root = change.outbox?.[0];
  assert.equal(root?.attributes['twilio.conference.participants_dropped'], extra);
  assert.equal(change.outbox?.length, 1 + MAX_PARTICIPANTS_PER_CONFERENCE);
});

test('a finalised conference keeps at most the cap of participant keys; later legs are ignored', () => {
  let stored = addLegs(0, 2, undefined);
  stored = reduceConferenceSummary(stored, complete(2), ctx('EV-complete-2')).next ?? stored;
  assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'finalised');
  stored = addLegs(2, MAX_PARTICIPANTS_PER_CONFERENCE, stored);
  assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'finalised');
  assert.equal(stored.tombstone.participantKeys.length, MAX_PARTICIPANTS_PER_CONFERENCE);
  const past = reduceParticipantSummary(stored, leg(MAX_PARTICIPANTS_PER_CONFERENCE), ctx('EV-past-cap'));
  assert.equal(past.next, undefined);
  assert.equal(past.outbox, undefined);
  assert.deepEqual(past.result, [{ kind: 'late', late: 'participant-summary', outcome: 'ignored' }]);
});

test('redeliveries of a kept leg under new CloudEvent ids do not grow the record', () => {
  let stored = addLegs(0, 2, undefined);
  for (let i = 0; i < 5; i++) stored = reduceParticipantSummary(stored, leg(1), ctx(`EV-again-${i}`)).next ?? stored;
  assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'pending');
  assert.equal(stored.state.participants.length, 2);
  assert.deepEqual(stored.state.eventIds, ['EV-leg-0', 'EV-leg-1']);
});

test('participant property strings are redacted like labels unless EXPOSE_PII', () => {
  const withNote = { ...leg(7), properties: { custom_note: 'callback +1 415 555 0100', enter_muted: true } };
  const hidden = buildParticipantSpan(withNote, 'k', T0, { exposePii: false });
  assert.equal(hidden.attributes['twilio.participant.properties.custom_note'], 'callback [redacted]');
  assert.equal(hidden.attributes['twilio.participant.properties.enter_muted'], true);
  const shown = buildParticipantSpan(withNote, 'k', T0, { exposePii: true });
  assert.equal(shown.attributes['twilio.participant.properties.custom_note'], 'callback +1 415 555 0100');
});

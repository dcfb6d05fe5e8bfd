// Dashboard (d): conferences (Conference Insights, reference section 7). Once-per-conference metrics
// (recorded when a conference's trace is finalised): volume by status and end reason, the share
// carrying Twilio's start_failure and quality tags (what the alert rules page on), duration and
// participant counts; once-per-participant metrics by call type: legs by role, time in the
// conference, queue time, and each leg's MOS, jitter and loss; the way from a ConferenceSid to its trace.
import {
  CONFERENCE_SPAN_NAME,
  PARTICIPANT_SPAN_NAME,
} from '../../src/calls/conference-trace.js';
import { CONFERENCE_METRICS as C } from '../../src/telemetry/catalog.js';
import { buildDashboard, filterVariable, tracingVariable, type BuiltDashboard } from './dashboard.js';
import { TextBoxVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { exploreTraces, pie, stat, text, timeseries, traceSearch, type PanelDef } from './panels.js';
import {
  TWILIO_THRESHOLDS as T,
  counter,
  quantile,
  sel,
  shareAbove,
  shareAtOrBelow,
  sumIncrease,
  sumRate,
} from './promql.js';

const CONFERENCES = counter(C.conferences);
const TAGS = counter(C.conferenceTags);
const PARTICIPANTS = counter(C.participants);
/** Participant metrics follow the call type filter; conference-level ones have no call type. */
const F = ['call_type=~"$call_type"'] as const;
/** Tags the alert rules page on: start_failure at any count, the quality tags above a share. */
export const START_FAILURE_TAG = 'start_failure';
export const QUALITY_TAGS = ['quality_warnings', 'high_jitter', 'high_packet_loss', 'low_mos'] as const;
/** The shares the alert rules page on: start_failure above 5 %, each quality tag above 10 %. */
const START_FAILURE_STEPS = [
  [null, 'green'],
  [0.05, 'red'],
] as const;
const QUALITY_STEPS = [
  [null, 'green'],
  [0.1, 'red'],
] as const;

/** Per tag: conferences carrying it / all conferences finalised (a conference counts once per tag). */
function tagShare(...tagMatchers: string[]): string {
  return `${sumRate(sel(TAGS, ...tagMatchers), ['tag'])} / ignoring (tag) group_left ${sumRate(sel(CONFERENCES))}`;
}

/** The ConferenceSid box: its trace id is the ConferenceSid's 32 hex digits, like a call's. */
function conferenceSidVariable(): TextBoxVariableBuilder {
  return new TextBoxVariableBuilder('conference_sid')
    .label('ConferenceSid')
    .description('A ConferenceSid (CF + 32 hex digits); its trace id is the 32 hex digits, lowercased.');
}

const TRACEQL = {
  byConferenceSid: `{ name = "${CONFERENCE_SPAN_NAME}" && span.twilio.conference_sid = "\${conference_sid}" }`,
  recent: `{ name = "${CONFERENCE_SPAN_NAME}" }`,
  lowMosLegs: `{ name = "${PARTICIPANT_SPAN_NAME}" && (span.twilio.participant.inbound.mos <= ${T.mos} || span.twilio.participant.outbound.mos <= ${T.mos}) }`,
  /** The root span's status is ERROR exactly when Twilio tagged the conference start_failure. */
  startFailures: `{ name = "${CONFERENCE_SPAN_NAME}" && status = error }`,
} as const;

const volume = (): PanelDef[] => [
  stat({
    title: 'Conferences per minute',
    description: 'Conferences finalised per minute (once per conference: complete summary and every participant in, or idle).',
    unit: 'cpm',
    expectData: true,
    width: 6,
    height: 5,
    targets: [{ expr: `${sumRate(sel(CONFERENCES))} * 60` }],
  }),
  stat({
    title: 'Conferences in range',
    description: 'Conferences finalised in the selected time range.',
    unit: 'short',
    expectData: true,
    width: 6,
    height: 5,
    targets: [{ expr: sumIncrease(sel(CONFERENCES)) }],
  }),
  stat({
    title: 'start_failure share in range',
    description:
      'Conferences Twilio tagged start_failure (the conference never started: fewer than two participants joined, or none with startConferenceOnEnter) / all finalised conferences. The alert rules page above 5 %.',
    unit: 'percentunit',
    expectData: true,
    width: 6,
    height: 5,
    thresholds: START_FAILURE_STEPS,
    targets: [{ expr: `${sumIncrease(sel(TAGS, `tag="${START_FAILURE_TAG}"`))} / ${sumIncrease(sel(CONFERENCES))}` }],
  }),
  stat({
    title: 'quality_warnings share in range',
    description:
      'Conferences Twilio tagged quality_warnings / all finalised conferences. The alert rules page above 10 % for this tag and for each of high_jitter, high_packet_loss and low_mos.',
    unit: 'percentunit',
    expectData: true,
    width: 6,
    height: 5,
    thresholds: QUALITY_STEPS,
    targets: [{ expr: `${sumIncrease(sel(TAGS, 'tag="quality_warnings"'))} / ${sumIncrease(sel(CONFERENCES))}` }],
  }),
  timeseries({
    title: 'Conferences per minute by status and end reason',
    description:
      "Twilio's status (completed, not_started, in_progress, summary_timeout) and end_reason (last_participant_left, conference_ended_via_api, participant_with_end_conference_on_exit_left, ...). unknown: finalised idle without any summary.",
    unit: 'cpm',
    expectData: true,
    width: 12,
    targets: [{ expr: `${sumRate(sel(CONFERENCES), ['status', 'end_reason'])} * 60`, legend: '{{status}} {{end_reason}}' }],
  }),
  timeseries({
    title: 'Share of conferences by tag',
    description:
      "Per Twilio conference tag: conferences carrying it / all finalised conferences. A conference with several tags counts under each, so the lines need not add up to 100 %.",
    unit: 'percentunit',
    expectData: true,
    width: 12,
    min: 0,
    targets: [{ expr: tagShare(), legend: '{{tag}}' }],
  }),
  timeseries({
    title: 'start_failure and quality tag shares',
    description:
      'The tags the alert rules page on: start_failure (above 5 %), and quality_warnings, high_jitter, high_packet_loss and low_mos (each above 10 %, the red line).',
    unit: 'percentunit',
    expectData: true,
    width: 12,
    min: 0,
    thresholds: QUALITY_STEPS,
    targets: [{ expr: tagShare(`tag=~"${[START_FAILURE_TAG, ...QUALITY_TAGS].join('|')}"`), legend: '{{tag}}' }],
  }),
  pie({
    title: 'End reasons (conferences in range)',
    description: "Conferences finalised in the selected range, by Twilio's end_reason.",
    unit: 'short',
    expectData: true,
    width: 12,
    targets: [{ expr: sumIncrease(sel(CONFERENCES), ['end_reason']), legend: '{{end_reason}}' }],
  }),
];

const sizeAndTime = (): PanelDef[] => [
  timeseries({
    title: 'Conference duration p50 and p95',
    description: "The summary's duration_seconds: from the conference's creation to its end.",
    unit: 's',
    expectData: true,
    width: 8,
    targets: [
      { expr: quantile(0.5, C.conferenceDuration), legend: 'p50' },
      { expr: quantile(0.95, C.conferenceDuration), legend: 'p95' },
    ],
  }),
  timeseries({
    title: 'Participants per conference p50 and p95',
    description: 'max_concurrent: most participants at once; unique: distinct participants over the conference.',
    unit: 'short',
    expectData: true,
    width: 8,
    targets: [
      { expr: quantile(0.5, C.conferenceParticipants, { by: ['kind'] }), legend: 'p50 {{kind}}' },
      { expr: quantile(0.95, C.conferenceParticipants, { by: ['kind'] }), legend: 'p95 {{kind}}' },
    ],
  }),
  timeseries({
    title: 'Participants per minute by call type and role',
    description: 'Conference legs summarised per minute: call_type (carrier, client, sip) and role (coach, moderator, participant).',
    unit: 'cpm',
    expectData: true,
    width: 8,
    targets: [{ expr: `${sumRate(sel(PARTICIPANTS, ...F), ['call_type', 'role'])} * 60`, legend: '{{call_type}} {{role}}' }],
  }),
  timeseries({
    title: 'Time in conference p50 and p95 by call type',
    description: "Each participant's duration_seconds: from joining to leaving the conference.",
    unit: 's',
    expectData: true,
    width: 12,
    targets: [
      { expr: quantile(0.5, C.participantDuration, { by: ['call_type'], match: F }), legend: 'p50 {{call_type}}' },
      { expr: quantile(0.95, C.participantDuration, { by: ['call_type'], match: F }), legend: 'p95 {{call_type}}' },
    ],
  }),
  timeseries({
    title: 'Participant queue time p50 and p95 by call type',
    description:
      'outbound_time_in_queue: how long a leg added through the Participants API waited before being dialled (Twilio gives no join-to-first-audio time).',
    unit: 's',
    expectData: true,
    width: 12,
    targets: [
      { expr: quantile(0.5, C.participantQueueTime, { by: ['call_type'], match: F }), legend: 'p50 {{call_type}}' },
      { expr: quantile(0.95, C.participantQueueTime, { by: ['call_type'], match: F }), legend: 'p95 {{call_type}}' },
    ],
  }),
];

const quality = (): PanelDef[] => [
  timeseries({
    title: 'Participant MOS p50 and p5 by call type',
    description: "Each leg's MOS per stream direction. Panel links open the participant spans at or below 3.5.",
    unit: 'none',
    expectData: true,
    width: 8,
    links: [{ title: 'Participants with MOS ≤ 3.5', url: exploreTraces(TRACEQL.lowMosLegs) }],
    targets: [
      { expr: quantile(0.5, C.participantMos, { by: ['call_type'], match: F }), legend: 'p50 {{call_type}}' },
      { expr: quantile(0.05, C.participantMos, { by: ['call_type'], match: F }), legend: 'p5 {{call_type}}' },
    ],
  }),
  timeseries({
    title: 'Participant jitter p95 by call type and stream direction',
    description: "Each leg's average jitter per stream direction (Twilio tags high_jitter at 30 ms, the red line).",
    unit: 's',
    expectData: true,
    width: 8,
    thresholds: [
      [null, 'green'],
      [T.jitterSeconds, 'red'],
    ],
    targets: [
      {
        expr: quantile(0.95, C.participantJitter, { by: ['call_type', 'stream_direction'], match: F }),
        legend: '{{call_type}} {{stream_direction}}',
      },
    ],
  }),
  timeseries({
    title: 'Participant packet loss p95 by call type and stream direction',
    description: "Each leg's packet loss per stream direction (Twilio tags high_packet_loss above 5 %, the red line).",
    unit: 'percentunit',
    expectData: true,
    width: 8,
    thresholds: [
      [null, 'green'],
      [T.lossRatio, 'red'],
    ],
    targets: [
      {
        expr: quantile(0.95, C.participantPacketLoss, { by: ['call_type', 'stream_direction'], match: F }),
        legend: '{{call_type}} {{stream_direction}}',
      },
    ],
  }),
  timeseries({
    title: 'Share of participant streams beyond Twilio thresholds',
    description: 'Per leg and stream direction: MOS at or below 3.5, average jitter above 30 ms, packet loss above 5 %.',
    unit: 'percentunit',
    expectData: true,
    width: 24,
    min: 0,
    targets: [
      { expr: shareAtOrBelow(C.participantMos, T.mos, { by: ['call_type'], match: F }), legend: 'MOS ≤ 3.5 {{call_type}}' },
      { expr: shareAbove(C.participantJitter, T.jitterSeconds, { by: ['call_type'], match: F }), legend: 'jitter > 30 ms {{call_type}}' },
      { expr: shareAbove(C.participantPacketLoss, T.lossRatio, { by: ['call_type'], match: F }), legend: 'loss > 5 % {{call_type}}' },
    ],
  }),
];

const FIND_A_TRACE = `Every conference is **one trace**, and its **trace id is the ConferenceSid's 32 hex digits, lowercased**:
\`CF3e1e4bfe16ef60f065c3dc82a810c79f\` → trace id \`3e1e4bfe16ef60f065c3dc82a810c79f\`. The root span
\`${CONFERENCE_SPAN_NAME}\` carries the ConferenceSid as \`twilio.conference_sid\` and the summary (status, end reason, tags, participants).

- Type a ConferenceSid into the **ConferenceSid** box above, then: [open its trace in Explore](${exploreTraces(TRACEQL.byConferenceSid)}) (TraceQL \`${TRACEQL.byConferenceSid}\`).
- Lists: [recent conferences](${exploreTraces(TRACEQL.recent)}) · [conferences that failed to start](${exploreTraces(TRACEQL.startFailures)}) · [participants with MOS ≤ 3.5](${exploreTraces(TRACEQL.lowMosLegs)}).
- Each \`${PARTICIPANT_SPAN_NAME}\` child span (join to leave; hold, mute and coaching as span events) has a **span link to its leg's call trace** (the CallSid trace, on the Voice Insights: calls dashboard), and that call's root span links back here: from a bad agent leg to the conference and on to every other leg.
- Participant summaries arriving after the conference went out are \`${PARTICIPANT_SPAN_NAME}\` spans marked \`twilio.late\`; a later summary is a \`${CONFERENCE_SPAN_NAME}.late\` span.`;

const traces = (): PanelDef[] => [
  text("Find a conference's trace", FIND_A_TRACE, 24, 7),
  traceSearch({
    title: 'Trace of the ConferenceSid above',
    description: 'TraceQL on the tracing datasource: the conference root span whose twilio.conference_sid is the ConferenceSid typed above.',
    traceql: TRACEQL.byConferenceSid,
  }),
  traceSearch({
    title: 'Recent conferences that failed to start',
    description:
      'Conference root spans with status ERROR: Twilio tagged them start_failure. Open one to see who joined, and when.',
    traceql: TRACEQL.startFailures,
  }),
];

export function conferencesDashboard(): BuiltDashboard {
  return buildDashboard({
    uid: 'voice-insights-conferences',
    title: 'Voice Insights: conferences',
    description:
      'Twilio conferences as finalised by voice-insights-exporter (Conference Insights): volume, status and end reasons, start_failure and quality tags, duration and size, each leg by call type and role, leg quality, and links to each conference trace.',
    file: 'conferences.json',
    variables: [filterVariable('call_type', 'Participant call type', PARTICIPANTS), tracingVariable(), conferenceSidVariable()],
    sections: [
      { title: 'Conferences and outcomes (once per conference)', panels: volume() },
      { title: 'Duration, size and queue time', panels: sizeAndTime() },
      { title: 'Participant quality by call type (once per participant)', panels: quality() },
      { title: 'Conference traces', panels: traces() },
    ],
  });
}

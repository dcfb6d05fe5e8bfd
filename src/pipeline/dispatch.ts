// Hands converted events to the stages that use them (metrics recorder, call trace assembler).
// The switch is exhaustive over ConvertedEvent['kind']: a new family without a route fails to compile.
import type {
  CallEventRecord,
  CallMetricSample,
  CallSummaryRecord,
  ConferenceSummaryRecord,
  ConvertedEvent,
  EnvelopeInfo,
  ParticipantSummaryRecord,
  SinkTestRecord,
} from '../events/types.js';

export interface EventMeta {
  info: EnvelopeInfo;
  /** Epoch ms when the request carrying the event arrived. */
  receivedAt: number;
}

/** A stage fed with committed events, after their commit (metrics recorders, logs); events of one request in order. */
export interface EventHandlers {
  onCallMetric(record: CallMetricSample, meta: EventMeta): void;
  onCallEvent(record: CallEventRecord, meta: EventMeta): void;
  onCallSummary(record: CallSummaryRecord, meta: EventMeta): void;
  onConferenceSummary(record: ConferenceSummaryRecord, meta: EventMeta): void;
  onParticipantSummary(record: ParticipantSummaryRecord, meta: EventMeta): void;
  onSinkTest(record: SinkTestRecord, meta: EventMeta): void;
}

export interface AcceptedEvent {
  record: ConvertedEvent;
  meta: EventMeta;
}

export function dispatch(events: readonly AcceptedEvent[], handlers: readonly EventHandlers[]): void {
  for (const { record, meta } of events) {
    for (const h of handlers) {
      switch (record.kind) {
        case 'call-metric':
          h.onCallMetric(record, meta);
          break;
        case 'call-event':
          h.onCallEvent(record, meta);
          break;
        case 'call-summary':
          h.onCallSummary(record, meta);
          break;
        case 'conference-summary':
          h.onConferenceSummary(record, meta);
          break;
        case 'participant-summary':
          h.onParticipantSummary(record, meta);
          break;
        case 'sink-test':
          h.onSinkTest(record, meta);
          break;
        default:
          unreachable(record);
      }
    }
  }
}

function unreachable(value: never): never {
  throw new Error(`no route for ${JSON.stringify(value)}`);
}

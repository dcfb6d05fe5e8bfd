// Hands converted events to the stages that use them (metrics recorder, call trace assembler).
// The switch is exhaustive over ConvertedEvent['kind']: a new family without a route fails to compile.
import type {
  CallEventRecord,
  CallMetricSample,
  CallSummaryRecord,
  ConvertedEvent,
  EnvelopeInfo,
  SinkTestRecord,
} from '../events/types.js';

export interface EventMeta {
  info: EnvelopeInfo;
  /** Epoch ms when the request carrying the event arrived. */
  receivedAt: number;
}

/** A stage fed by the pipeline. Handlers may be async (a durable or shared store); events of one request are handed over in order. */
export interface EventHandlers {
  onCallMetric(record: CallMetricSample, meta: EventMeta): void | Promise<void>;
  onCallEvent(record: CallEventRecord, meta: EventMeta): void | Promise<void>;
  onCallSummary(record: CallSummaryRecord, meta: EventMeta): void | Promise<void>;
  onSinkTest(record: SinkTestRecord, meta: EventMeta): void | Promise<void>;
}

export interface AcceptedEvent {
  record: ConvertedEvent;
  meta: EventMeta;
}

export async function dispatch(events: readonly AcceptedEvent[], handlers: readonly EventHandlers[]): Promise<void> {
  for (const { record, meta } of events) {
    for (const h of handlers) {
      switch (record.kind) {
        case 'call-metric':
          await h.onCallMetric(record, meta);
          break;
        case 'call-event':
          await h.onCallEvent(record, meta);
          break;
        case 'call-summary':
          await h.onCallSummary(record, meta);
          break;
        case 'sink-test':
          await h.onSinkTest(record, meta);
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

// The exporter's own health metrics (prefix voice_insights_exporter_), created from the catalog.
import type { Meter } from '@opentelemetry/api';
import { OTHER_TYPE, SELF_METRICS, type EventOutcome, type SignatureFailureReason } from './catalog.js';
import { createCounter, createHistogram, createObservedGauge } from './instruments.js';
import { isEventType } from '../events/types.js';

export interface SelfMetricsProbes {
  dedupIds: () => number;
  ready: () => boolean;
  callsInFlight: () => number;
  traceQueue: () => number;
}

export type SelfMetrics = ReturnType<typeof createSelfMetrics>;

export function createSelfMetrics(meter: Meter, probes: SelfMetricsProbes) {
  const m = SELF_METRICS;
  const requests = createCounter(meter, m.webhookRequests);
  const duration = createHistogram(meter, m.webhookDuration);
  const events = createCounter(meter, m.events);
  const signature = createCounter(meter, m.signatureFailures);
  const deadLetters = createCounter(meter, m.deadLetters);
  const unknownVersions = createCounter(meter, m.unknownSchemaVersions);
  const lag = createHistogram(meter, m.eventLag);
  const overflow = createCounter(meter, m.labelOverflow);
  const exportFailures = createCounter(meter, m.exportFailures);
  createObservedGauge(meter, m.dedupIds, probes.dedupIds);
  createObservedGauge(meter, m.ready, () => (probes.ready() ? 1 : 0));
  createObservedGauge(meter, m.callsInFlight, probes.callsInFlight);
  createObservedGauge(meter, m.traceQueue, probes.traceQueue);
  const finalised = createCounter(meter, m.tracesFinalised);
  const conferencesFinalised = createCounter(meter, m.conferencesFinalised);
  const late = createCounter(meter, m.lateData);
  const dropped = createCounter(meter, m.spansDropped);

  return {
    request(status: number, seconds: number): void {
      const code = String(status);
      requests.add(1, { code });
      duration.record(seconds, { code });
    },
    event(type: string, outcome: EventOutcome, count = 1): void {
      events.add(count, { type: boundedType(type), outcome });
    },
    signatureFailure(reason: SignatureFailureReason): void {
      signature.add(1, { reason });
    },
    deadLettered(reason: 'envelope' | 'schema', count: number): void {
      deadLetters.add(count, { reason });
    },
    unknownSchemaVersion(type: string): void {
      unknownVersions.add(1, { type: boundedType(type) });
    },
    /** Clock skew can make an event look like it comes from the future; that is no lag at all. */
    eventLag(type: string, seconds: number): void {
      lag.record(Math.max(0, seconds), { type: boundedType(type) });
    },
    exportFailure(signal: 'metrics' | 'traces'): void {
      exportFailures.add(1, { signal });
    },
    traceFinalised(reason: 'complete' | 'idle' | 'capacity'): void {
      finalised.add(1, { reason });
    },
    conferenceFinalised(reason: 'complete' | 'idle' | 'capacity'): void {
      conferencesFinalised.add(1, { reason });
    },
    lateData(kind: string, outcome: 'late_span' | 'ignored'): void {
      late.add(1, { kind, outcome });
    },
    spansDropped(reason: 'gave_up' | 'rejected', count: number): void {
      dropped.add(count, { reason });
    },
    labelOverflow(metric: string, label: string): void {
      overflow.add(1, { metric, label });
    },
  };
}

/** Keeps the `type` label bounded: a signed sender could still invent types. */
function boundedType(type: string): string {
  return isEventType(type) ? type : OTHER_TYPE;
}

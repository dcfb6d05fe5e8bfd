// One signed request's events: envelope -> dedup -> family schema -> dispatch -> record.
// Every event ends in exactly one outcome (accepted, duplicate, invalid, unknown_type). The request
// is answered 2xx only after all of them are recorded: dead letters flushed, handlers fed, ids
// remembered. Anything that fails on the way throws, so the caller answers 5xx and Twilio retries.
import type { Clock } from '../clock.js';
import { ExporterError } from '../errors.js';
import { parseEnvelope, isKnownSchemaVersion } from '../events/envelope.js';
import { FAMILIES } from '../events/families.js';
import { isEventType } from '../events/types.js';
import type { Logger } from '../logger.js';
import type { DeadLetter, DeadLetterSink } from '../store/dead-letter.js';
import type { DedupStore } from '../store/dedup.js';
import type { EventOutcome } from '../telemetry/catalog.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { decodeBody } from './decode.js';
import { dispatch, type AcceptedEvent, type EventHandlers } from './dispatch.js';

export type IngestReport = Record<EventOutcome, number>;

export interface IngestDeps {
  clock: Clock;
  dedup: DedupStore;
  deadLetters: DeadLetterSink;
  handlers: readonly EventHandlers[];
  metrics: SelfMetrics;
  logger: Logger;
  maxEventsPerRequest: number;
}

export class Ingest {
  /** Ids being processed by concurrent requests (a Twilio retry can overlap a slow first attempt). */
  private readonly inFlight = new Set<string>();

  constructor(private readonly deps: IngestDeps) {}

  /** Decodes and records one request body; throws ExporterError('bad_request') if it holds no CloudEvents. */
  async ingestBody(raw: Buffer): Promise<IngestReport> {
    return this.ingest(decodeBody(raw, this.deps.maxEventsPerRequest), this.deps.clock.now());
  }

  async ingest(elements: readonly unknown[], receivedAt: number): Promise<IngestReport> {
    const report: IngestReport = { accepted: 0, duplicate: 0, invalid: 0, unknown_type: 0 };
    const outcomes: { type: string; outcome: EventOutcome }[] = [];
    const accepted: AcceptedEvent[] = [];
    const letters: DeadLetter[] = [];
    const claimed: string[] = [];
    let envelopeFailures = 0;
    try {
      for (const element of elements) {
        const parsed = parseEnvelope(element);
        if (!parsed.ok) {
          envelopeFailures++;
          const type = parsed.type ?? 'unknown';
          letters.push({
            receivedAt,
            reason: 'envelope',
            id: parsed.id,
            type: parsed.type,
            issues: parsed.issues,
            event: element,
          });
          outcomes.push({ type, outcome: 'invalid' });
          continue;
        }
        const { info } = parsed.envelope;
        if (this.inFlight.has(info.id) || (await this.deps.dedup.has(info.id))) {
          outcomes.push({ type: info.type, outcome: 'duplicate' });
          continue;
        }
        this.inFlight.add(info.id);
        claimed.push(info.id);
        if (!isEventType(info.type)) {
          outcomes.push({ type: info.type, outcome: 'unknown_type' });
          continue;
        }
        if (!isKnownSchemaVersion(info)) this.deps.metrics.unknownSchemaVersion(info.type);
        const converted = FAMILIES[info.type](parsed.envelope);
        if (!converted.ok) {
          letters.push({
            receivedAt,
            reason: 'schema',
            id: info.id,
            type: info.type,
            issues: converted.issues,
            event: element,
          });
          outcomes.push({ type: info.type, outcome: 'invalid' });
          continue;
        }
        accepted.push({ record: converted.value, meta: { info, receivedAt } });
        const eventTime = 'timestamp' in converted.value ? converted.value.timestamp : info.time;
        if (eventTime !== undefined) this.deps.metrics.eventLag(info.type, (receivedAt - eventTime) / 1000);
        outcomes.push({ type: info.type, outcome: 'accepted' });
      }
      if (envelopeFailures === elements.length) {
        throw new ExporterError(
          'bad_request',
          'body holds no CloudEvent (each element needs at least string `id` and `type`)',
          'not_cloudevents',
        );
      }
      await this.record(letters, accepted);
      await this.deps.dedup.remember(claimed);
    } finally {
      for (const id of claimed) this.inFlight.delete(id);
    }
    for (const { type, outcome } of outcomes) {
      report[outcome]++;
      this.deps.metrics.event(type, outcome);
    }
    return report;
  }

  private async record(letters: readonly DeadLetter[], accepted: readonly AcceptedEvent[]): Promise<void> {
    if (letters.length > 0) {
      try {
        await this.deps.deadLetters.write(letters);
      } catch (err) {
        this.deps.logger.error(
          { err: errorName(err) },
          'dead-letter file not writable; answering 503 so Twilio retries',
        );
        throw new ExporterError('not_ready', 'dead-letter file is not writable', 'dead_letter_unwritable');
      }
      for (const l of letters) {
        this.deps.logger.warn({ id: l.id, type: l.type, reason: l.reason, issues: l.issues }, 'event dead-lettered');
      }
      this.deps.metrics.deadLettered('envelope', letters.filter((l) => l.reason === 'envelope').length);
      this.deps.metrics.deadLettered('schema', letters.filter((l) => l.reason === 'schema').length);
    }
    await dispatch(accepted, this.deps.handlers);
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${'code' in err ? String(err.code) : err.message}` : 'unknown error';
}

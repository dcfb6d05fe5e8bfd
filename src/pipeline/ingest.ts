// One signed request's events: envelope -> claim ids -> family schema -> state stages -> commit ->
// metrics. Every event ends in exactly one outcome (accepted, duplicate, invalid, unknown_type).
// The request is answered 2xx only after its unit of work committed (claims, call state, outbox) and
// its dead letters were written; metrics and other effects are recorded only after that commit, so a
// request that fails (and that Twilio retries) or a replay after a restart never counts twice.
// Anything that fails on the way throws, so the caller answers 5xx and Twilio retries.
import type { Clock } from '../clock.js';
import { ExporterError } from '../errors.js';
import { parseEnvelope, isKnownSchemaVersion, type ParseEnvelopeResult } from '../events/envelope.js';
import { FAMILIES } from '../events/families.js';
import { isEventType } from '../events/types.js';
import type { Logger } from '../logger.js';
import type { DeadLetter, DeadLetterSink } from '../store/dead-letter.js';
import type { EventOutcome } from '../telemetry/catalog.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { decodeBody } from './decode.js';
import { dispatch, type AcceptedEvent, type EventHandlers } from './dispatch.js';
import type { AfterCommit, IngestTx, StateStage, TxSource } from './ports.js';

export type IngestReport = Record<EventOutcome, number>;

export interface IngestDeps<Tx extends IngestTx> {
  clock: Clock;
  store: TxSource<Tx>;
  deadLetters: DeadLetterSink;
  /** Stages that keep state, fed inside the request's unit of work. */
  stages: readonly StateStage<Tx>[];
  /** Stages fed after the commit, with the committed events only (metrics recorders, logs). */
  observers: readonly EventHandlers[];
  metrics: SelfMetrics;
  logger: Logger;
  maxEventsPerRequest: number;
}

interface Element {
  raw: unknown;
  parsed: ParseEnvelopeResult;
}

export class Ingest<Tx extends IngestTx = IngestTx> {
  constructor(private readonly deps: IngestDeps<Tx>) {}

  /** Decodes and records one request body; throws ExporterError('bad_request') if it holds no CloudEvents. */
  async ingestBody(raw: Buffer): Promise<IngestReport> {
    return this.ingest(decodeBody(raw, this.deps.maxEventsPerRequest), this.deps.clock.now());
  }

  async ingest(elements: readonly unknown[], receivedAt: number): Promise<IngestReport> {
    const parsedAll: Element[] = elements.map((raw) => ({ raw, parsed: parseEnvelope(raw) }));
    const valid = parsedAll.filter((e) => e.parsed.ok);
    if (valid.length === 0) {
      throw new ExporterError(
        'bad_request',
        'body holds no CloudEvent (each element needs at least string `id` and `type`)',
        'not_cloudevents',
      );
    }
    const outcomes: { type: string; outcome: EventOutcome }[] = [];
    const accepted: AcceptedEvent[] = [];
    const letters: DeadLetter[] = [];
    const afters: AfterCommit[] = [];
    const tx = this.deps.store.begin();
    try {
      const ids = valid.flatMap((e) => (e.parsed.ok ? [e.parsed.envelope.info.id] : []));
      const fresh = new Set(await tx.claim(ids));
      for (const { raw, parsed } of parsedAll) {
        if (!parsed.ok) {
          letters.push({
            receivedAt,
            reason: 'envelope',
            id: parsed.id,
            type: parsed.type,
            issues: parsed.issues,
            event: raw,
          });
          outcomes.push({ type: parsed.type ?? 'unknown', outcome: 'invalid' });
          continue;
        }
        const { info } = parsed.envelope;
        // A repeat inside one body counts as a duplicate too: only its first occurrence takes the claim.
        if (!fresh.delete(info.id)) {
          outcomes.push({ type: info.type, outcome: 'duplicate' });
          continue;
        }
        if (!isEventType(info.type)) {
          outcomes.push({ type: info.type, outcome: 'unknown_type' });
          continue;
        }
        const converted = FAMILIES[info.type](parsed.envelope);
        if (!converted.ok) {
          letters.push({
            receivedAt,
            reason: 'schema',
            id: info.id,
            type: info.type,
            issues: converted.issues,
            event: raw,
          });
          outcomes.push({ type: info.type, outcome: 'invalid' });
          continue;
        }
        accepted.push({ record: converted.value, meta: { info, receivedAt } });
        outcomes.push({ type: info.type, outcome: 'accepted' });
      }
      await this.writeDeadLetters(letters);
      for (const stage of this.deps.stages) afters.push(await stage.apply(accepted, tx));
      await tx.commit();
    } catch (err) {
      tx.abort();
      if (err instanceof ExporterError) throw err;
      this.deps.logger.error({ err: errorName(err) }, 'state store could not commit; answering 503 so Twilio retries');
      throw new ExporterError('not_ready', 'state store could not commit the events', 'store_unavailable');
    }
    return this.afterCommit(outcomes, accepted, letters, afters);
  }

  private afterCommit(
    outcomes: readonly { type: string; outcome: EventOutcome }[],
    accepted: readonly AcceptedEvent[],
    letters: readonly DeadLetter[],
    afters: readonly AfterCommit[],
  ): IngestReport {
    const report: IngestReport = { accepted: 0, duplicate: 0, invalid: 0, unknown_type: 0 };
    for (const { type, outcome } of outcomes) {
      report[outcome]++;
      this.deps.metrics.event(type, outcome);
    }
    for (const { record, meta } of accepted) {
      if (!isKnownSchemaVersion(meta.info)) this.deps.metrics.unknownSchemaVersion(meta.info.type);
      const eventTime = 'timestamp' in record ? record.timestamp : meta.info.time;
      if (eventTime !== undefined) this.deps.metrics.eventLag(meta.info.type, (meta.receivedAt - eventTime) / 1000);
    }
    if (letters.length > 0) {
      this.deps.metrics.deadLettered('envelope', letters.filter((l) => l.reason === 'envelope').length);
      this.deps.metrics.deadLettered('schema', letters.filter((l) => l.reason === 'schema').length);
      // One line per request, not one per element: a hostile body must not flood the log.
      const first = letters[0];
      this.deps.logger.warn(
        {
          deadLettered: letters.length,
          of: outcomes.length,
          first: { id: first?.id, type: first?.type, reason: first?.reason, issues: first?.issues },
        },
        'events dead-lettered',
      );
    }
    // Observers are in-process recorders; one failing must not turn a committed request into a 5xx.
    try {
      dispatch(accepted, this.deps.observers);
      for (const after of afters) after();
    } catch (err) {
      this.deps.logger.error({ err: errorName(err) }, 'recording committed events failed');
    }
    return report;
  }

  private async writeDeadLetters(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.deps.deadLetters.write(letters);
    } catch (err) {
      this.deps.logger.error({ err: errorName(err) }, 'dead-letter file not writable; answering 503 so Twilio retries');
      throw new ExporterError('not_ready', 'dead-letter file is not writable', 'dead_letter_unwritable');
    }
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${'code' in err ? String(err.code) : err.message}` : 'unknown error';
}

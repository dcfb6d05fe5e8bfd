// `replay FILE`: recorded CloudEvents through the same pipeline as the webhook (no signature: the
// file is the operator's own). Accepts a JSON array, JSON lines of CloudEvents or of Twilio bodies
// (arrays), and the exporter's own dead-letter file, whose lines carry the event under `event`,
// so dead letters can be fed back once their cause is fixed. Dedup still applies.
import { readFile } from 'node:fs/promises';
import type { Ingest, IngestReport } from './ingest.js';

export interface ReplayReport extends IngestReport {
  /** Lines or elements that were not JSON, or dead letters stored without their event. */
  unreadable: number;
}

/** The CloudEvent candidates in a replay file's text, in file order. */
export function readReplayText(text: string): { elements: unknown[]; unreadable: number } {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) return { elements: parsed.map(unwrapDeadLetter), unreadable: 0 };
    } catch {
      // Not one JSON array: fall through to JSON lines (a file of Twilio bodies also starts with '[').
    }
  }
  const elements: unknown[] = [];
  let unreadable = 0;
  for (const line of trimmed.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      for (const element of Array.isArray(parsed) ? parsed : [parsed]) {
        const event = unwrapDeadLetter(element);
        if (event === undefined) unreadable++;
        else elements.push(event);
      }
    } catch {
      unreadable++;
    }
  }
  return { elements, unreadable };
}

function unwrapDeadLetter(element: unknown): unknown {
  if (typeof element !== 'object' || element === null || !('reason' in element) || !('received_at' in element))
    return element;
  return 'event' in element ? element.event : undefined;
}

export async function replayFile(
  path: string,
  ingest: Ingest,
  now: () => number,
  batchSize = 100,
): Promise<ReplayReport> {
  const { elements, unreadable } = readReplayText(await readFile(path, 'utf8'));
  const report: ReplayReport = { accepted: 0, duplicate: 0, invalid: 0, unknown_type: 0, unreadable };
  for (let i = 0; i < elements.length; i += batchSize) {
    const batch = elements.slice(i, i + batchSize);
    try {
      const r = await ingest.ingest(batch, now());
      report.accepted += r.accepted;
      report.duplicate += r.duplicate;
      report.invalid += r.invalid;
      report.unknown_type += r.unknown_type;
    } catch {
      // A batch with no CloudEvent at all: every element in it is unreadable for replay purposes.
      report.unreadable += batch.length;
    }
  }
  return report;
}

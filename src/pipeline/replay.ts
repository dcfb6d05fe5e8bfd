// `replay FILE`: recorded CloudEvents through the same pipeline as the webhook (no signature: the
// file is the operator's own). Accepts a JSON array, JSON lines of CloudEvents or of Twilio bodies
// (arrays), and the exporter's own dead-letter file, whose lines carry the event under `event`,
// so dead letters can be fed back once their cause is fixed. Dedup still applies.
// Replaying the dead-letter file in place would append the events that fail again to the file being
// replayed: `moveAsideIfDeadLetter` first renames it, so they go to a fresh dead-letter file.
import { existsSync } from 'node:fs';
import { readFile, realpath, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DEAD_LETTER_FILE } from '../store/dead-letter.js';
import type { Ingest, IngestReport } from './ingest.js';

/** The replay file could not be read (or moved aside); `message` says why in a few words, never with a stack. */
export class ReplayFileError extends Error {}

/** "no such file", "permission denied", ... for an fs error; its message otherwise. */
function fsReason(err: unknown): string {
  const code: unknown = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** The file's text; a ReplayFileError naming the path and the cause when it cannot be read. */
export async function readReplayFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ReplayFileError(`cannot read replay file ${path}: ${fsReason(err)}`, { cause: err });
  }
}

/**
 * When `path` is the dead-letter file of `dataDir` (or its rotated `.1`), compared by real path, renames
 * it in the same directory (atomic) to dead-letter[.1].replayed-<time>.jsonl and returns that name: the
 * replay reads it from there and events that fail again go to a fresh dead-letter file. Otherwise
 * returns undefined. Must run before the exporter opens its dead-letter file.
 */
export async function moveAsideIfDeadLetter(
  path: string,
  dataDir: string,
  now: Date,
): Promise<{ from: string; to: string } | undefined> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw new ReplayFileError(`cannot read replay file ${path}: ${fsReason(err)}`, { cause: err });
  }
  let dir: string;
  try {
    dir = await realpath(dataDir);
  } catch {
    return undefined; // no DATA_DIR yet: no dead-letter file either
  }
  const names = new Map([
    [join(dir, DEAD_LETTER_FILE), 'dead-letter'],
    [join(dir, `${DEAD_LETTER_FILE}.1`), 'dead-letter.1'],
  ]);
  const stem = names.get(real);
  if (stem === undefined) return undefined;
  const time = now.toISOString().replace(/[:.]/g, '-');
  let to = join(dirname(real), `${stem}.replayed-${time}.jsonl`);
  for (let n = 1; existsSync(to); n++) to = join(dirname(real), `${stem}.replayed-${time}-${n}.jsonl`);
  try {
    await rename(real, to);
  } catch (err) {
    throw new ReplayFileError(`cannot move the dead-letter file ${path} aside to ${basename(to)}: ${fsReason(err)}`, {
      cause: err,
    });
  }
  return { from: path, to };
}

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
  return replayText(await readReplayFile(path), ingest, now, batchSize);
}

/** Feeds a replay file's text (see readReplayText) through `ingest` in batches. */
export async function replayText(
  text: string,
  ingest: Ingest,
  now: () => number,
  batchSize = 100,
): Promise<ReplayReport> {
  const { elements, unreadable } = readReplayText(text);
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

// Bounded dead-letter file: events that passed the signature but failed their schema are kept with
// the reason (field paths only) so an operator can fix and `replay` them. JSON lines, one event per
// line. The file rotates to `<name>.1` when it would pass half the byte budget, so both files
// together never exceed it. Each write is flushed to disk before the webhook answers 2xx.
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { FieldIssue } from '../events/family.js';

export interface DeadLetter {
  /** Epoch ms when received. */
  receivedAt: number;
  /** "envelope": not a usable CloudEvent; "schema": the type's data schema failed. */
  reason: 'envelope' | 'schema';
  id: string | undefined;
  type: string | undefined;
  issues: FieldIssue[];
  /** The CloudEvent as received (parsed JSON). */
  event: unknown;
}

export interface DeadLetterSink {
  write(letters: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}

export const DEAD_LETTER_FILE = 'dead-letter.jsonl';

export class FileDeadLetterSink implements DeadLetterSink {
  private handle: FileHandle | undefined;
  private size = 0;
  private tail: Promise<void> = Promise.resolve();
  private readonly path: string;
  private readonly halfBudget: number;

  constructor(
    private readonly dir: string,
    maxBytes: number,
  ) {
    this.path = join(dir, DEAD_LETTER_FILE);
    this.halfBudget = Math.floor(maxBytes / 2);
  }

  /** Opens (creating DATA_DIR if needed); throws if the directory is not writable. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.handle = await open(this.path, 'a');
    this.size = (await stat(this.path)).size;
  }

  /** Serialised: one write at a time, in arrival order. */
  write(letters: readonly DeadLetter[]): Promise<void> {
    const next = this.tail.then(() => this.append(letters));
    this.tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.handle?.close();
    this.handle = undefined;
  }

  /** Writes the letters in chunks that each fit the current file, rotating between chunks. */
  private async append(letters: readonly DeadLetter[]): Promise<void> {
    let chunk = '';
    let chunkBytes = 0;
    for (const letter of letters) {
      const line = this.line(letter);
      const bytes = Buffer.byteLength(line);
      if (this.size + chunkBytes + bytes > this.halfBudget && this.size + chunkBytes > 0) {
        await this.flushChunk(chunk, chunkBytes);
        chunk = '';
        chunkBytes = 0;
        await this.rotate();
      }
      chunk += line;
      chunkBytes += bytes;
    }
    await this.flushChunk(chunk, chunkBytes);
  }

  private async flushChunk(text: string, bytes: number): Promise<void> {
    if (bytes === 0) return;
    if (this.handle === undefined) await this.open();
    const handle = this.handle;
    if (handle === undefined) throw new Error('dead-letter file is not open');
    await handle.appendFile(text);
    await handle.datasync();
    this.size += bytes;
  }

  /** One JSON line; the event itself is left out when it alone would break the budget. */
  private line(letter: DeadLetter): string {
    const record = {
      received_at: new Date(letter.receivedAt).toISOString(),
      reason: letter.reason,
      id: letter.id,
      type: letter.type,
      issues: letter.issues,
    };
    let full: string;
    try {
      full = `${JSON.stringify({ ...record, event: letter.event })}\n`;
    } catch {
      // Hostile nesting can overflow JSON.stringify's recursion; keep the reason, drop the body.
      return `${JSON.stringify({ ...record, event_omitted: 'not serialisable (nesting too deep)' })}\n`;
    }
    if (Buffer.byteLength(full) <= this.halfBudget) return full;
    return `${JSON.stringify({ ...record, event_omitted: 'larger than half of DEAD_LETTER_MAX_BYTES' })}\n`;
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    await rename(this.path, `${this.path}.1`);
    this.size = 0;
  }
}

// The embedded durable store behind StagedStore (STORE_URL unset): one SQLite file, DATA_DIR/state.sqlite,
// through better-sqlite3. Answers exactly as MemoryPersistence does; what it adds is durability.
//
// - WAL journal, synchronous FULL (survives power loss) or NORMAL (survives a process kill). StagedStore's
//   group commit makes one transaction, so one sync, of everything waiting at that moment.
// - locking_mode EXCLUSIVE: this process holds the file from open to close, so a second exporter on the
//   same DATA_DIR fails to open instead of corrupting state (and WAL needs no shared-memory file).
// - auto_vacuum INCREMENTAL plus a truncating checkpoint after each compaction: the files shrink back as
//   expired claims, tombstones and acknowledged outbox entries go, instead of growing without bound.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoredCall } from '../calls/ports.js';
import type { SpanData } from '../calls/span-data.js';
import type { OutboxEntry } from '../telemetry/outbox-port.js';
import type { CallRow, Persistence, WriteBatch } from './persistence.js';

export interface SqlitePersistenceOptions {
  /** Directory for state.sqlite (created if missing). */
  dir: string;
  /** full: a commit survives power loss; normal: it survives a process kill, maybe not power loss. */
  sync: 'full' | 'normal';
  /** How long opening waits for another process to let go of the file before failing (default 5 s). */
  busyTimeoutMs?: number;
  /** Caps the database at this many pages (4 KiB each); writes past it fail with SQLITE_FULL. For tests. */
  maxPageCount?: number;
}

export const STATE_FILE = 'state.sqlite';

/** Schema migrations; PRAGMA user_version is how many have run. Append, never edit. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE calls (
    call_sid TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'finalised')),
    last_activity INTEGER,
    expires_at INTEGER,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX calls_idle ON calls (status, last_activity);
  CREATE INDEX calls_expiry ON calls (expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX claims_expiry ON claims (expires_at);
  -- AUTOINCREMENT: sequence numbers keep increasing across restarts even when the outbox was emptied.
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    span_count INTEGER NOT NULL,
    spans TEXT NOT NULL
  );
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // A pending call's activity times in columns, authoritative over the copies in `body`: a metrics
  // sample (most of the traffic) then updates three integers instead of rewriting the whole call.
  `
  ALTER TABLE calls ADD COLUMN earliest_at INTEGER;
  ALTER TABLE calls ADD COLUMN latest_at INTEGER;
  `,
];

/** SQLite's own default page cap (no cap). */
const NO_PAGE_CAP = 4_294_967_294;
/** Pages in the write-ahead log before SQLite checkpoints it by itself (default 1000). */
const WAL_AUTOCHECKPOINT_PAGES = 8000;
/** Page cache, KiB (default 2 MiB). */
const CACHE_KIB = 64 * 1024;
/** The WAL is truncated back to this size after a checkpoint if a large transaction grew it. */
const JOURNAL_SIZE_LIMIT = 32 * 1024 * 1024;

interface CallDbRow {
  body: string;
  last_activity: number | null;
  earliest_at: number | null;
  latest_at: number | null;
  expires_at: number | null;
}

interface OutboxDbRow {
  seq: number;
  created_at: number;
  span_count: number;
  spans: string;
}

function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function prepareStatements(db: Database.Database) {
  return {
    getCall: db.prepare<[string], CallDbRow>(
      'SELECT body, last_activity, earliest_at, latest_at, expires_at FROM calls WHERE call_sid = ?',
    ),
    isClaimed: db.prepare<[string, number], number>('SELECT 1 FROM claims WHERE id = ? AND expires_at > ?').pluck(),
    idleCalls: db
      .prepare<[number, number], string>(
        `SELECT call_sid FROM calls WHERE status = 'pending' AND last_activity < ?
         ORDER BY last_activity, call_sid LIMIT ?`,
      )
      .pluck(),
    countPending: db.prepare<[], number>(`SELECT count(*) FROM calls WHERE status = 'pending'`).pluck(),
    countClaims: db.prepare<[], number>('SELECT count(*) FROM claims').pluck(),
    outboxAfter: db.prepare<[number], OutboxDbRow>(
      'SELECT seq, created_at, span_count, spans FROM outbox WHERE seq > ? ORDER BY seq',
    ),
    outboxCounts: db.prepare<[], { entries: number; spans: number }>(
      'SELECT count(*) AS entries, coalesce(sum(span_count), 0) AS spans FROM outbox',
    ),
    outboxSpanCount: db.prepare<[number], number>('SELECT span_count FROM outbox WHERE seq = ?').pluck(),
    maxOutboxSeq: db.prepare<[], number>(`SELECT seq FROM sqlite_sequence WHERE name = 'outbox'`).pluck(),
    upsertCall: db.prepare<[string, string, number | null, number | null, number | null, number | null, string], void>(
      `INSERT INTO calls (call_sid, status, last_activity, earliest_at, latest_at, expires_at, body)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (call_sid) DO UPDATE SET
         status = excluded.status, last_activity = excluded.last_activity, earliest_at = excluded.earliest_at,
         latest_at = excluded.latest_at, expires_at = excluded.expires_at, body = excluded.body`,
    ),
    touchCall: db.prepare<[number | null, number | null, number | null, string], void>(
      'UPDATE calls SET last_activity = ?, earliest_at = ?, latest_at = ? WHERE call_sid = ?',
    ),
    // Insert-or-ignore then update, rather than INSERT OR REPLACE, so the claim count stays exact.
    insertClaim: db.prepare<[string, number], void>('INSERT OR IGNORE INTO claims (id, expires_at) VALUES (?, ?)'),
    renewClaim: db.prepare<[number, string], void>('UPDATE claims SET expires_at = ? WHERE id = ?'),
    insertOutbox: db.prepare<[number, number, number, string], void>(
      'INSERT INTO outbox (seq, created_at, span_count, spans) VALUES (?, ?, ?, ?)',
    ),
    deleteOutbox: db.prepare<[number], void>('DELETE FROM outbox WHERE seq = ?'),
    compactClaims: db.prepare<[number, number], void>(
      'DELETE FROM claims WHERE id IN (SELECT id FROM claims WHERE expires_at <= ? LIMIT ?)',
    ),
    compactCalls: db.prepare<[number, number], void>(
      'DELETE FROM calls WHERE call_sid IN (SELECT call_sid FROM calls WHERE expires_at <= ? LIMIT ?)',
    ),
    // Takes the lease when free, expired, or already ours; one statement, so atomic.
    lease: db.prepare<[string, string, number, number], void>(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
    ),
    releaseLease: db.prepare<[string, string], void>('DELETE FROM leases WHERE name = ? AND holder = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqlitePersistence implements Persistence {
  readonly durable = true;
  /** Rows in claims, kept here so countClaims (read every second for self-metrics) is O(1). */
  private claimCount: number;
  private readonly writeTx: (batch: WriteBatch) => number;
  private readonly compactTx: (now: number, limit: number) => { claims: number; calls: number };

  private constructor(
    private readonly db: Database.Database,
    private readonly stmt: Statements,
    /** Path of the database file. */
    readonly file: string,
  ) {
    this.claimCount = stmt.countClaims.get() ?? 0;
    this.writeTx = db.transaction((batch: WriteBatch): number => {
      let newClaims = 0;
      for (const [sid, row] of batch.calls) {
        const state = row.record.status === 'pending' ? row.record.state : undefined;
        const earliest = state?.earliestAt ?? null;
        const latest = state?.latestAt ?? null;
        if (
          row.bodyChanged === false &&
          stmt.touchCall.run(row.lastActivityAt ?? null, earliest, latest, sid).changes > 0
        )
          continue;
        stmt.upsertCall.run(
          sid,
          row.record.status,
          row.lastActivityAt ?? null,
          earliest,
          latest,
          row.expiresAt ?? null,
          JSON.stringify(row.record),
        );
      }
      for (const c of batch.claims) {
        if (stmt.insertClaim.run(c.id, c.expiresAt).changes > 0) newClaims++;
        else stmt.renewClaim.run(c.expiresAt, c.id);
      }
      for (const e of batch.outboxAdd)
        stmt.insertOutbox.run(e.seq, e.createdAt, e.spans.length, JSON.stringify(e.spans));
      for (const seq of batch.outboxDelete) stmt.deleteOutbox.run(seq);
      return newClaims;
    });
    this.compactTx = db.transaction((now: number, limit: number) => {
      const claims = stmt.compactClaims.run(now, limit).changes;
      const calls = claims < limit ? stmt.compactCalls.run(now, limit - claims).changes : 0;
      return { claims, calls };
    });
  }

  /** Opens (creating) `dir/state.sqlite`; throws, naming the directory, when another process holds it. */
  static open(opts: SqlitePersistenceOptions): SqlitePersistence {
    mkdirSync(opts.dir, { recursive: true });
    const file = join(opts.dir, STATE_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: opts.busyTimeoutMs ?? 5000 });
      // Before anything reads the file: EXCLUSIVE before WAL means no shared memory and one process only;
      // auto_vacuum only takes effect if set before the first table exists.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
      db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
      // Fewer, larger checkpoints: each one syncs the main file (a ~10 ms stall on the event loop); the
      // compaction timer truncates the log every minute anyway. A page cache that holds the hot indexes.
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`cache_size = -${CACHE_KIB}`);
      migrate(db);
      // After the schema exists: a cap smaller than the empty schema would make opening fail.
      if (opts.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(opts.maxPageCount)}`);
      return new SqlitePersistence(db, prepareStatements(db), file);
    } catch (err) {
      db?.close();
      if (sqliteCode(err)?.startsWith('SQLITE_BUSY') === true) {
        throw new Error(
          `the state store in ${opts.dir} is in use by another process (${file} is locked): ` +
            'only one exporter may use a DATA_DIR at a time',
          { cause: err },
        );
      }
      throw new Error(`cannot open the state store ${file}: ${message(err)}`, { cause: err });
    }
  }

  getCall(callSid: string): CallRow | undefined {
    const row = this.stmt.getCall.get(callSid);
    if (row === undefined) return undefined;
    const record = JSON.parse(row.body) as StoredCall;
    if (record.status === 'pending') {
      // The columns are authoritative: activity-only writes do not rewrite the body.
      record.state.lastActivityAt = row.last_activity ?? record.state.lastActivityAt;
      record.state.earliestAt = row.earliest_at ?? undefined;
      record.state.latestAt = row.latest_at ?? undefined;
    }
    return { record, lastActivityAt: row.last_activity ?? undefined, expiresAt: row.expires_at ?? undefined };
  }

  isClaimed(id: string, now: number): boolean {
    return this.stmt.isClaimed.get(id, now) !== undefined;
  }

  idleCalls(before: number, limit: number): string[] {
    return this.stmt.idleCalls.all(before, limit);
  }

  countPending(): number {
    return this.stmt.countPending.get() ?? 0;
  }

  countClaims(): number {
    return this.claimCount;
  }

  outboxPeek(maxSpans: number, afterSeq: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    let spans = 0;
    for (const row of this.stmt.outboxAfter.iterate(afterSeq)) {
      if (out.length > 0 && spans + row.span_count > maxSpans) break;
      out.push({ seq: row.seq, createdAt: row.created_at, spans: JSON.parse(row.spans) as SpanData[] });
      spans += row.span_count;
    }
    return out;
  }

  outboxCounts(): { entries: number; spans: number } {
    const counts = this.stmt.outboxCounts.get();
    return { entries: counts?.entries ?? 0, spans: counts?.spans ?? 0 };
  }

  outboxSpanCount(seq: number): number | undefined {
    return this.stmt.outboxSpanCount.get(seq);
  }

  maxOutboxSeq(): number {
    return this.stmt.maxOutboxSeq.get() ?? 0;
  }

  /** One transaction: all of the batch or, when it throws (SQLITE_FULL, I/O error), none of it. */
  write(batch: WriteBatch): void {
    this.claimCount += this.writeTx(batch);
  }

  /** Deletes up to `limit` expired claims and tombstones, then gives freed pages back to the file system. */
  compact(now: number, limit: number): number {
    let removed = 0;
    if (limit > 0) {
      const { claims, calls } = this.compactTx(now, Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER));
      this.claimCount -= claims;
      removed = claims + calls;
    }
    // Acknowledged outbox entries free pages too, so reclaim even when nothing expired.
    this.db.exec('PRAGMA incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return removed;
  }

  lease(name: string, holder: string, now: number, ttlMs: number): boolean {
    return this.stmt.lease.run(name, holder, now + ttlMs, now).changes > 0;
  }

  releaseLease(name: string, holder: string): void {
    this.stmt.releaseLease.run(name, holder);
  }

  /** The database file plus its write-ahead log. */
  sizeBytes(): number {
    let bytes = 0;
    for (const path of [this.file, `${this.file}-wal`]) bytes += statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    return bytes;
  }

  /** Changes the page cap (tests of disk-full backpressure); returns the cap in effect. */
  setMaxPageCount(pages: number | undefined): number {
    return Number(this.db.pragma(`max_page_count = ${Math.floor(pages ?? NO_PAGE_CAP)}`, { simple: true }));
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

function migrate(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > MIGRATIONS.length) {
    throw new Error(`schema version ${version} is newer than this exporter knows (${MIGRATIONS.length})`);
  }
  if (version === MIGRATIONS.length) return;
  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(version)) db.exec(sql);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
  const autoVacuum = Number(db.pragma('auto_vacuum', { simple: true }));
  if (version === 0 && autoVacuum !== 2) throw new Error(`auto_vacuum is ${autoVacuum}, not INCREMENTAL`);
}

// `replay FILE` through the built CLI: recorded events go through the same pipeline and their
// traces reach a real OTLP receiver; with no collector listening it says so within seconds, exits 3
// and leaves the spans in the outbox, where the next `serve` finds and exports them; --no-traces
// records without traces; an unreadable file is one line and exit 2; replaying the dead-letter file
// in place moves it aside first, so events that fail again go to a fresh dead-letter file.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEAD_LETTER_FILE } from '../../src/store/dead-letter.js';
import { ensureBuilt, freePort, runCliAsync, spawnExporter } from '../support/child.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

const complete = loadFixtureEvents('call-summary/complete-carrier-call.json');
const partial = loadFixtureEvents('call-summary/partial-v1-data-as-string.json');
const callSid = (complete[0]?.data as { call_sid: string }).call_sid;
const traceId = callSid.slice(2).toLowerCase();

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'replay-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the test's own, as the working directory and DATA_DIR parent of one case. */
function caseDir(name: string): string {
  return mkdtempSync(join(dir, `${name}-`));
}

test('replay sends each recorded call to the OTLP backend once; a replayed duplicate is counted; replaying the file again on the same DATA_DIR adds no trace', async () => {
  const receiver = await startOtlpReceiver();
  const cwd = caseDir('receiver');
  try {
    const file = join(cwd, 'recorded.jsonl');
    // JSON lines of Twilio bodies, one of them twice; the call with only a partial summary stays pending.
    await writeFile(file, [complete, complete, partial].map((b) => JSON.stringify(b)).join('\n'));
    const env = {
      DATA_DIR: join(cwd, 'data'),
      LOG_LEVEL: 'silent',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
    };
    const first = await runCliAsync(['replay', file], env, cwd);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '');
    assert.deepEqual(JSON.parse(first.stdout), {
      accepted: 2,
      duplicate: 1,
      invalid: 0,
      unknown_type: 0,
      unreadable: 0,
      pendingCalls: 1,
      finalised: 0,
    });
    assert.deepEqual(
      receiver.spans().map((s) => s.traceId),
      [traceId],
    );
    // With --finalise-pending the waiting call goes out too (marked by what summary it had).
    const again = await runCliAsync(['replay', '--finalise-pending', file], env, cwd);
    assert.equal(again.code, 0, again.stderr);
    // The second process finds the first one's state in DATA_DIR: every event is a duplicate, the complete
    // call does not go out again, and the call left pending by the first run is swept.
    assert.deepEqual(JSON.parse(again.stdout), {
      accepted: 0,
      duplicate: 3,
      invalid: 0,
      unknown_type: 0,
      unreadable: 0,
      pendingCalls: 1,
      finalised: 1,
    });
    const states = receiver
      .spans()
      .slice(1)
      .map((s) => s.attributes['twilio.summary.state']);
    assert.deepEqual(states, ['partial']);
  } finally {
    await receiver.close();
  }
});

describe('no OTLP collector listening', () => {
  let cwd: string;
  let dataDir: string;
  let closedPort: number;

  beforeAll(async () => {
    cwd = caseDir('closed');
    dataDir = join(cwd, 'data');
    closedPort = await freePort();
    await writeFile(join(cwd, 'recorded.json'), JSON.stringify(complete));
  });

  test('replay says which endpoint is unreachable and where the spans wait, exits 3, within seconds', async () => {
    const r = await runCliAsync(
      ['replay', 'recorded.json'],
      {
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}`,
      },
      cwd,
      60_000,
    );
    assert.equal(r.code, 3, `${r.stderr}\n${r.stdout}`);
    // The OTLP exporter retries a refused connection within its 10 s timeout; replay then stops (it used
    // to back off for 60 s more and exit 0).
    assert.ok(r.ms < 20_000, `replay took ${r.ms} ms`);
    assert.equal((JSON.parse(r.stdout) as { accepted: number }).accepted, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^voice-insights-exporter: 1 span not exported: http://127\\.0\\.0\\.1:${closedPort}/v1/traces unreachable \\(.*ECONNREFUSED`,
      ),
    );
    assert.match(
      r.stderr,
      /state\.sqlite: the next `serve` \(or `replay`\) on this DATA_DIR with traces on exports them/,
    );
    assert.match(r.stderr, /--no-traces/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('the next `serve` on that DATA_DIR exports the waiting span, as the message says', async () => {
    const receiver = await startOtlpReceiver();
    const child = await spawnExporter({
      env: {
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        TWILIO_AUTH_TOKEN: 'replay-cli-token',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      },
    });
    try {
      await receiver.waitFor(() => receiver.spans().length > 0, 10_000);
      assert.deepEqual(
        receiver.spans().map((s) => s.traceId),
        [traceId],
      );
    } finally {
      await child.kill();
      await receiver.close();
    }
  });

  test('--no-traces records the events without any export attempt and exits 0', async () => {
    const fresh = caseDir('no-traces');
    await writeFile(join(fresh, 'recorded.json'), JSON.stringify(complete));
    const r = await runCliAsync(
      ['replay', '--no-traces', 'recorded.json'],
      {
        DATA_DIR: join(fresh, 'data'),
        LOG_LEVEL: 'silent',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}`,
      },
      fresh,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms < 10_000, `replay took ${r.ms} ms`);
    assert.equal((JSON.parse(r.stdout) as { accepted: number }).accepted, 1);
    assert.equal(
      r.stderr,
      'voice-insights-exporter: traces are off (--no-traces): 1 span discarded from the outbox, none exported\n',
    );
  });

  test('OTEL_TRACES_EXPORTER=none is the same switch', async () => {
    const fresh = caseDir('traces-none');
    await writeFile(join(fresh, 'recorded.json'), JSON.stringify(complete));
    const r = await runCliAsync(
      ['replay', 'recorded.json'],
      {
        DATA_DIR: join(fresh, 'data'),
        LOG_LEVEL: 'silent',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}`,
      },
      fresh,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /traces are off \(OTEL_TRACES_EXPORTER=none\)/);
  });
});

test('a replay file that cannot be read is one line naming it and the cause, exit 2, no stack', async () => {
  const cwd = caseDir('unreadable');
  const env = { DATA_DIR: join(cwd, 'data'), LOG_LEVEL: 'silent', OTEL_TRACES_EXPORTER: 'none' };
  const missing = await runCliAsync(['replay', 'no-such-file.jsonl'], env, cwd);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'voice-insights-exporter: cannot read replay file no-such-file.jsonl: no such file\n');
  assert.equal(missing.stdout, '');
  const directory = await runCliAsync(['replay', cwd], env, cwd);
  assert.equal(directory.code, 2);
  assert.equal(directory.stderr, `voice-insights-exporter: cannot read replay file ${cwd}: is a directory\n`);
});

test('replaying DATA_DIR/dead-letter.jsonl in place moves it aside first: events failing again go to a fresh dead-letter file', async () => {
  const cwd = caseDir('dead-letter');
  const dataDir = join(cwd, 'data');
  const metric = loadFixtureEvents('call-metrics/sdk-edge-one-second-sample.json')[0];
  assert.ok(metric);
  const fixed = { ...metric, id: 'EZ0000000000000000000000000000dd11' };
  const stillBad = structuredClone({ ...metric, id: 'EZ0000000000000000000000000000dd12' }) as unknown as {
    data: { sdk_edge: { interval: { jitter: unknown } } };
  };
  stillBad.data.sdk_edge.interval.jitter = { value: 'nine' };
  const letter = (event: unknown, id: string) =>
    JSON.stringify({
      received_at: '2026-11-24T00:00:00.000Z',
      reason: 'schema',
      id,
      type: metric['type'],
      issues: [],
      event,
    });
  const original = `${letter(fixed, fixed.id)}\n${letter(stillBad, 'EZ0000000000000000000000000000dd12')}\n`;
  mkdirSync(dataDir);
  const deadLetterFile = join(dataDir, DEAD_LETTER_FILE);
  await writeFile(deadLetterFile, original);

  const r = await runCliAsync(
    ['replay', 'data/dead-letter.jsonl'],
    { DATA_DIR: dataDir, LOG_LEVEL: 'silent', OTEL_TRACES_EXPORTER: 'none' },
    cwd,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    accepted: 1,
    duplicate: 0,
    invalid: 1,
    unknown_type: 0,
    unreadable: 0,
    pendingCalls: 1,
    finalised: 0,
  });
  const moved = readdirSync(dataDir).filter((f) => /^dead-letter\.replayed-.*\.jsonl$/.test(f));
  assert.equal(moved.length, 1, readdirSync(dataDir).join(', '));
  const movedPath = join(dataDir, moved[0] ?? '');
  assert.equal(readFileSync(movedPath, 'utf8'), original, 'the replayed file is kept as it was');
  assert.match(r.stderr, new RegExp(`moved it to ${movedPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // Only the event that failed again, once.
  assert.ok(existsSync(deadLetterFile));
  const fresh = readFileSync(deadLetterFile, 'utf8').trim().split('\n');
  assert.equal(fresh.length, 1, fresh.join('\n'));
  assert.equal((JSON.parse(fresh[0] ?? '{}') as { id: string }).id, 'EZ0000000000000000000000000000dd12');
});

test('a DATA_DIR in use by a running serve is refused (exit 2) before anything is moved: its dead-letter file stays where serve writes it', async () => {
  const child = await spawnExporter({ env: { LOG_LEVEL: 'warn', TWILIO_AUTH_TOKEN: 'replay-cli-token' } });
  try {
    const deadLetterFile = join(child.dataDir, DEAD_LETTER_FILE);
    assert.ok(existsSync(deadLetterFile), 'serve opened its dead-letter file');
    const r = await runCliAsync(
      ['replay', deadLetterFile],
      { DATA_DIR: child.dataDir, LOG_LEVEL: 'silent', OTEL_TRACES_EXPORTER: 'none' },
      caseDir('in-use'),
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^voice-insights-exporter: cannot replay: the state store in .* is in use by another process/,
    );
    assert.ok(existsSync(deadLetterFile));
    assert.deepEqual(
      readdirSync(child.dataDir).filter((f) => f.includes('replayed')),
      [],
    );
  } finally {
    await child.kill();
  }
});

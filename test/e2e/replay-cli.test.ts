// `replay FILE` through the built CLI: recorded events go through the same pipeline and their
// traces reach a real OTLP receiver.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt, MAIN_JS } from '../support/child.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

test('replay sends each recorded call to the OTLP backend once; a replayed duplicate is counted; replaying the file again on the same DATA_DIR adds no trace', async () => {
  await ensureBuilt();
  const receiver = await startOtlpReceiver();
  const dir = await mkdtemp(join(tmpdir(), 'replay-cli-'));
  try {
    const complete = loadFixtureEvents('call-summary/complete-carrier-call.json');
    const partial = loadFixtureEvents('call-summary/partial-v1-data-as-string.json');
    const file = join(dir, 'recorded.jsonl');
    // JSON lines of Twilio bodies, one of them twice; the call with only a partial summary stays pending.
    await writeFile(file, [complete, complete, partial].map((b) => JSON.stringify(b)).join('\n'));
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'silent',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
    };
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [MAIN_JS, 'replay', file], { env, cwd: dir, timeout: 30_000 });
    assert.deepEqual(JSON.parse(stdout), {
      accepted: 2,
      duplicate: 1,
      invalid: 0,
      unknown_type: 0,
      unreadable: 0,
      pendingCalls: 1,
      finalised: 0,
    });
    const callSid = (complete[0]?.data as { call_sid: string }).call_sid;
    assert.deepEqual(
      receiver.spans().map((s) => s.traceId),
      [callSid.slice(2).toLowerCase()],
    );
    // With --finalise-pending the waiting call goes out too (marked by what summary it had).
    const again = await run(process.execPath, [MAIN_JS, 'replay', '--finalise-pending', file], {
      env,
      cwd: dir,
      timeout: 30_000,
    });
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

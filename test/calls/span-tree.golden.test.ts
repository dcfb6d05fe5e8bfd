// Golden span trees: what a tracing backend receives for the main kinds of call, rendered from what
// our OTLP receiver decoded (test/support/span-tree.ts) and compared with test/golden/span-trees/*.txt.
// Each case runs over both OTLP protocols against the same file, so the two encodings must agree.
// Regenerate deliberately with `UPDATE_GOLDEN=1 npm run jest -- span-tree.golden`.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ManualClock } from '../../src/clock.js';
import { callSid, sdkEvent, sdkMetric } from '../support/events.js';
import { startExporter, type Harness } from '../support/harness.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { threeLegConference } from '../support/conference-traffic.js';
import { T0, carrierCall, gatewayEvent, renderSpanTree, summaryFor } from '../support/span-tree.js';

const IDLE_TIMEOUT_SECONDS = 600;

interface Rig {
  h: Harness;
  clock: ManualClock;
  post(events: Record<string, unknown>[]): Promise<void>;
}

interface GoldenCase {
  file: string;
  /** Drives the exporter; returns how many spans the backend must end up with. */
  run(rig: Rig): Promise<number>;
}

const CASES: GoldenCase[] = [
  {
    // Partial then complete summary, gateway and SDK events out of order, metrics samples.
    file: 'complete-call-with-events.txt',
    async run(rig) {
      for (const batch of carrierCall('golden-complete').batches) await rig.post(batch);
      return 1;
    },
  },
  {
    // call_state fail, SIP 404 / Q.850 cause 1: status ERROR.
    file: 'failed-call.txt',
    async run(rig) {
      const sid = callSid('golden-failed');
      await rig.post([gatewayEvent(sid, 'call.failed', T0 + 2_860, { level: 'ERROR' })]);
      await rig.post([summaryFor('call-summary/complete-failed-call.json', sid, { start: T0, end: T0 + 3_000 })]);
      return 1;
    },
  },
  {
    // No summary ever: finalised by sweep() after CALL_IDLE_TIMEOUT_SECONDS; times from events and metrics.
    file: 'idle-expired-call-without-summary.txt',
    async run(rig) {
      const name = 'golden-idle';
      await rig.post([
        sdkEvent(name, 'connection', 'outgoing', 'INFO', 0.5),
        sdkMetric(name, { jitter: 3, mos: 4.4, rtt: 60 }, { second: 2 }),
      ]);
      await rig.post([
        sdkEvent(name, 'connection', 'disconnected-by-local', 'INFO', 42),
        sdkEvent(name, 'network-quality-warning-raised', 'high-rtt', 'WARNING', 20),
        sdkMetric(name, { jitter: 4, mos: 4.2, rtt: 450 }, { second: 45 }),
      ]);
      assert.equal(await rig.h.app.calls.sweep(), 0);
      rig.clock.advance(IDLE_TIMEOUT_SECONDS * 1000 + 1);
      assert.equal(await rig.h.app.calls.sweep(), 1);
      return 1;
    },
  },
  {
    // Trust and annotation on the summary (Twilio docs example); a gateway event two days earlier
    // under the same CallSid stays out of the span's time range, listed in twilio.trace.* attributes.
    file: 'trust-annotation-outlier-event.txt',
    async run(rig) {
      const sid = callSid('golden-trust');
      await rig.post([gatewayEvent(sid, 'call.initiated', T0 - 2 * 24 * 60 * 60_000)]);
      await rig.post([gatewayEvent(sid, 'call.ringing', T0 + 1_000), gatewayEvent(sid, 'call.completed', T0 + 20_000)]);
      await rig.post([
        summaryFor('call-summary/complete-trust-annotation-carrier.json', sid, { start: T0, end: T0 + 20_000 }),
      ]);
      return 1;
    },
  },
  {
    // SDK edge summary: event counts by level, group and error, feedback, MOS/RTT maxima, audio levels.
    file: 'client-call-sdk-edge-events.txt',
    async run(rig) {
      const sid = callSid('golden-sdk-summary');
      await rig.post([
        summaryFor('call-summary/complete-client-sdk-edge-events-feedback.json', sid, { start: T0, end: T0 + 40_000 }),
      ]);
      return 1;
    },
  },
  {
    // A call event after the complete summary: a late child span of the root.
    file: 'call-with-late-event.txt',
    async run(rig) {
      const call = carrierCall('golden-late');
      for (const batch of call.batches) await rig.post(batch);
      rig.clock.advance(120_000);
      await rig.post([sdkEvent(call.name, 'feedback', 'received', 'INFO', 170)]);
      return 2;
    },
  },
  {
    // Idle-finalised with a partial summary, then the complete summary: a late summary span.
    file: 'idle-partial-then-late-complete.txt',
    async run(rig) {
      const sid = callSid('golden-late-summary');
      await rig.post([gatewayEvent(sid, 'call.connected', T0 + 8_000)]);
      await rig.post([
        summaryFor('call-summary/partial-processing-version-2.json', sid, {
          processingVersion: 2,
          start: T0,
          end: T0 + 150_000,
        }),
      ]);
      rig.clock.advance(IDLE_TIMEOUT_SECONDS * 1000 + 1);
      assert.equal(await rig.h.app.calls.sweep(), 1);
      await rig.post([
        summaryFor('call-summary/complete-carrier-call.json', sid, {
          processingVersion: 4,
          start: T0,
          end: T0 + 150_000,
        }),
      ]);
      return 2;
    },
  },
  {
    // A three-leg conference (customer, agent muting and holding in epoch seconds, supervisor coaching
    // in epoch ms): participant summaries before the complete summary, the partial last (no news). One
    // trace under the ConferenceSid: the root with the summary, one span per leg with its actions as
    // events and links to its call's root span (and the coached call's).
    file: 'conference-three-legs.txt',
    async run(rig) {
      const c = threeLegConference('golden-conference');
      const [customer, agent, supervisor] = c.participants;
      await rig.post([agent, supervisor]);
      await rig.post([c.complete, customer]);
      await rig.post([c.partial]);
      return 4;
    },
  },
];

async function render(protocol: 'http/protobuf' | 'http/json', c: GoldenCase): Promise<string> {
  const receiver: OtlpReceiver = await startOtlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${receiver.url}/v1/traces`;
  const clock = new ManualClock(T0 + 10 * 60_000);
  let h: Harness | undefined;
  try {
    h = await startExporter(
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
        CALL_IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_SECONDS),
      },
      { clock },
    );
    const harness = h;
    const expected = await c.run({
      h: harness,
      clock,
      async post(events) {
        const res = await harness.post(events);
        assert.deepEqual(res.json, { accepted: events.length, duplicate: 0, invalid: 0, unknown_type: 0 });
      },
    });
    await harness.app.traces.flush(15_000);
    await receiver.waitFor(() => receiver.spans().length >= expected, 15_000);
    assert.equal(receiver.spans().length, expected);
    return renderSpanTree(receiver.spans());
  } finally {
    await h?.stop();
    await receiver.close();
  }
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`golden span trees over OTLP ${protocol}`, () => {
    for (const c of CASES) {
      test(c.file, async () => {
        const golden = new URL(`../golden/span-trees/${c.file}`, import.meta.url);
        const actual = await render(protocol, c);
        // Written from the first protocol only; the second must then match the same file.
        if (process.env.UPDATE_GOLDEN === '1' && protocol === 'http/protobuf') writeFileSync(golden, actual);
        assert.ok(existsSync(golden), `${c.file} missing: run with UPDATE_GOLDEN=1 to create it`);
        assert.equal(actual, readFileSync(golden, 'utf8'), 'run with UPDATE_GOLDEN=1 to accept a deliberate change');
      });
    }
  });
}

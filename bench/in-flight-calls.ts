// The calls of the memory and recovery scenario: each one in flight, as Twilio has sent it so far. Ten
// call events (the call's own gateway and SDK events from the simulator; a call with fewer repeats its
// own events under new EZ ids, 1 ms apart, as more legs of progress would), three metric samples and
// its first partial summary (or, for a call that never connected, its
// predicted-complete one). No complete summary, so every call stays pending in the exporter.
import { planCall } from '../src/sim/call-plan.js';
import { callCloudEvents, type CloudEvent } from '../src/sim/cloudevents.js';
import { rngFor, sid } from '../src/sim/random.js';

export const CALL_EVENTS_PER_CALL = 10;
export const METRICS_PER_CALL = 3;
/** Call events, metric samples and one partial summary. */
export const EVENTS_PER_CALL = CALL_EVENTS_PER_CALL + METRICS_PER_CALL + 1;

const isCallEvent = (e: CloudEvent) => e.type.includes('.call-event.');
const isMetric = (e: CloudEvent) => e.type.includes('.call-metrics.');

/** Call `index` of run `seed` in flight: its CloudEvents, every id unique, created `agoMs` before now. */
export function inFlightCall(seed: number, index: number, nowMs: number, agoMs = 20 * 60_000): CloudEvent[] {
  const plan = planCall(seed, index, { badShare: 0.1 });
  const created = Math.floor((nowMs - agoMs) / 1000) * 1000;
  const clock = { epochMs: (simMs: number) => created + simMs, emittedAtMs: created + plan.endMs + 1000 };
  const all = callCloudEvents(plan).map((e) => e.build(clock));
  const own = all.filter(isCallEvent);
  const callEvents = own.slice(0, CALL_EVENTS_PER_CALL);
  const ids = rngFor(seed, index, 'bench-extra-events');
  for (let k = 0; callEvents.length < CALL_EVENTS_PER_CALL && own.length > 0; k++) {
    const source = own[k % own.length];
    if (source === undefined) break;
    const stamp = source.data['timestamp'];
    const at = (typeof stamp === 'string' ? Date.parse(stamp) : 0) + k + 1;
    callEvents.push({ ...source, id: sid('EZ', ids), data: { ...source.data, timestamp: new Date(at).toISOString() } });
  }
  const metrics = all.filter(isMetric).slice(0, METRICS_PER_CALL);
  // Calls that never connected get no partial; their first summary snapshot stands in for it.
  const partial =
    all.find((e) => e.type === 'com.twilio.voice.insights.call-summary.partial') ??
    all.find((e) => e.type === 'com.twilio.voice.insights.call-summary.predicted-complete');
  return [...callEvents, ...metrics, ...(partial === undefined ? [] : [partial])];
}

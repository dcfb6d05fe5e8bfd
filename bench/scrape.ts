// /metrics render time with every open label at its bound. A fresh exporter (embedded store, default
// METRIC_LABEL_MAX_VALUES) is sent simulator events whose open labels (codec and region of the
// interval samples, group and name of call events, call type, direction, state, disconnected_by and
// tags of call summaries) take METRIC_LABEL_MAX_VALUES distinct values each, then GET /metrics is timed:
// - aligned: value k of every label together, so each label is at its bound with ~bound series per
//   label set;
// - cross: every codec with every region, every group with every name, every call type with every
//   direction and tag: the most series the label bounds allow (the OTel SDK caps each metric at 2000
//   label sets, folding the rest into one overflow series).
import { loadConfig } from '../src/config.js';
import { planCall } from '../src/sim/call-plan.js';
import { callCloudEvents, type CloudEvent } from '../src/sim/cloudevents.js';
import { rngFor, sid } from '../src/sim/random.js';
import { startExporter, tempDir, type Exporter } from './children.js';
import { LoadClient } from './client.js';
import { httpGet } from './http-get.js';
import { Usage } from './proc.js';
import { quantile } from './stats.js';
import { signBody, type SignedBody, type Signer } from './traffic.js';

export interface ScrapeCase {
  name: 'aligned' | 'cross';
  /** Events sent in this step (the cross step comes after the aligned one, on the same exporter). */
  eventsSent: number;
  series: number;
  bytes: number;
  scrapes: number;
  p50Ms: number;
  maxMs: number;
  cpuMsPerScrape: number;
}

export interface ScrapeResult {
  maxValuesPerLabel: number;
  cases: ScrapeCase[];
}

interface Templates {
  gatewayMetric: CloudEvent;
  sdkMetric: CloudEvent;
  gatewayEvent: CloudEvent;
  sdkEvent: CloudEvent;
  complete: CloudEvent;
}

const SEED = 3003;
const CALLS_FOR_SAMPLES = 500;
const GATEWAY_EDGES = ['carrier_edge', 'sip_edge', 'client_edge'] as const;

function templates(): Templates {
  for (let i = 0; i < 1000; i++) {
    const plan = planCall(SEED, i, { badShare: 0.3 });
    if (plan.callType !== 'client' || plan.callState !== 'completed') continue;
    const created = Date.now() - plan.endMs - 35 * 60_000;
    const clock = { epochMs: (ms: number) => created + ms, emittedAtMs: created + plan.endMs + 1000 };
    const all = callCloudEvents(plan).map((e) => e.build(clock));
    const find = (type: string) => all.find((e) => e.type === `com.twilio.voice.insights.${type}`);
    const t = {
      gatewayMetric: find('call-metrics.gateway'),
      sdkMetric: find('call-metrics.sdk'),
      gatewayEvent: find('call-event.gateway'),
      sdkEvent: find('call-event.sdk'),
      complete: find('call-summary.complete'),
    };
    if (Object.values(t).every((e) => e !== undefined)) return t as Templates;
  }
  throw new Error('no client call with every kind of event in the first 1000 simulated calls');
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});

/** A copy of `event` for call `callSid` under a new id, then changed by `edit`. */
function variant(event: CloudEvent, callSid: string, id: string, edit: (data: Json) => void): CloudEvent {
  const oldSid = event.data['call_sid'];
  if (typeof oldSid !== 'string') throw new Error(`${event.type} ${event.id} has no call_sid`);
  const copy = JSON.parse(JSON.stringify(event).replaceAll(oldSid, callSid)) as CloudEvent;
  copy.id = id;
  edit(copy.data);
  return copy;
}

class LabelTraffic {
  private n = 0;
  private readonly rng = rngFor(SEED, 'scrape-ids');
  private readonly sampleCalls: string[];

  constructor(private readonly t: Templates) {
    this.sampleCalls = Array.from({ length: CALLS_FOR_SAMPLES }, () => sid('CA', this.rng));
  }

  private id(): string {
    this.n++;
    return sid('EZ', this.rng);
  }

  private call(): string {
    return this.sampleCalls[this.n % this.sampleCalls.length] ?? '';
  }

  /** Interval samples with this codec and region: each gateway edge both ways, and the SDK edge. */
  samples(codec: string, region: string): CloudEvent[] {
    const out: CloudEvent[] = [];
    for (const edge of GATEWAY_EDGES) {
      for (const direction of ['inbound', 'outbound']) {
        out.push(
          variant(this.t.gatewayMetric, this.call(), this.id(), (d) => {
            const source = obj(d[String(d['edge'])]);
            for (const other of GATEWAY_EDGES) d[other] = null;
            d['edge'] = edge;
            d['direction'] = direction;
            d[edge] = { ...source, codec_name: codec, metadata: { ...obj(source['metadata']), region } };
          }),
        );
      }
    }
    out.push(
      variant(this.t.sdkMetric, this.call(), this.id(), (d) => {
        const edge = obj(d['sdk_edge']);
        d['sdk_edge'] = { ...edge, codec_name: codec, metadata: { ...obj(edge['metadata']), region } };
      }),
    );
    return out;
  }

  /** A gateway and an SDK call event with this group and name. */
  callEvents(group: string, name: string): CloudEvent[] {
    return [this.t.gatewayEvent, this.t.sdkEvent].map((e) =>
      variant(e, this.call(), this.id(), (d) => {
        d['group'] = group;
        d['name'] = name;
      }),
    );
  }

  /** A complete summary of a new call (so it is finalised and recorded once) with these labels. */
  summary(labels: { callType: string; direction: string; state: string; by: string; tags: string[] }): CloudEvent {
    return variant(this.t.complete, sid('CA', this.rng), this.id(), (d) => {
      d['call_type'] = labels.callType;
      d['call_state'] = labels.state;
      d['tags'] = labels.tags;
      d['properties'] = { ...obj(d['properties']), direction: labels.direction, disconnected_by: labels.by };
    });
  }
}

function alignedEvents(traffic: LabelTraffic, bound: number): CloudEvent[] {
  const out: CloudEvent[] = [];
  for (let k = 0; k < bound; k++) {
    out.push(...traffic.samples(`codec-${k}`, `region-${k}`), ...traffic.callEvents(`group-${k}`, `name-${k}`));
    out.push(
      traffic.summary({
        callType: `type-${k}`,
        direction: `direction-${k}`,
        state: `state-${k}`,
        by: `party-${k}`,
        tags: [`tag-${k}`],
      }),
    );
  }
  return out;
}

function crossEvents(traffic: LabelTraffic, bound: number): CloudEvent[] {
  const out: CloudEvent[] = [];
  for (let i = 0; i < bound; i++) {
    for (let j = 0; j < bound; j++) {
      // Every codec x region pair once, across the edges in turn (a sample per edge would be 7x more).
      const samples = traffic.samples(`codec-${i}`, `region-${j}`);
      out.push(samples[(i + j) % samples.length] as CloudEvent);
      const events = traffic.callEvents(`group-${i}`, `name-${j}`);
      out.push(events[(i + j) % events.length] as CloudEvent);
    }
    // call_type x direction (the base labels of every per-call metric), and call_type x tag.
    for (let j = 0; j < bound; j += 5) {
      out.push(
        traffic.summary({
          callType: `type-${i}`,
          direction: `direction-${j}`,
          state: `state-${(i + j) % bound}`,
          by: `party-${(i * 7 + j) % bound}`,
          tags: [0, 1, 2, 3, 4].map((k) => `tag-${(j + k) % bound}`),
        }),
      );
    }
  }
  return out;
}

async function send(exporter: Exporter, signer: Signer, events: readonly CloudEvent[]): Promise<void> {
  const bodies: SignedBody[] = [];
  for (let i = 0; i < events.length; i += 50) bodies.push(signBody(signer, events.slice(i, i + 50)));
  const client = new LoadClient(exporter.port, 4);
  try {
    let next = 0;
    const result = await client.closedLoop({ concurrency: 4, durationMs: 120_000, next: () => bodies[next++] });
    if (result.non2xx > 0) throw new Error(`scrape traffic: ${result.non2xx} of ${bodies.length} requests not 2xx`);
  } finally {
    client.close();
  }
}

async function timeScrapes(exporter: Exporter, scrapes: number, name: ScrapeCase['name'], sent: number) {
  const first = await httpGet(exporter.metricsPort, '/metrics', 60_000, true);
  if (first?.status !== 200) throw new Error(`GET /metrics answered ${first?.status ?? 'nothing'}`);
  const series = first.body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const times = new Float64Array(scrapes);
  const usage = new Usage(exporter.pid);
  for (let i = 0; i < scrapes; i++) {
    const t0 = performance.now();
    const answer = await httpGet(exporter.metricsPort, '/metrics', 60_000);
    times[i] = performance.now() - t0;
    if (answer?.status !== 200) throw new Error(`GET /metrics answered ${answer?.status ?? 'nothing'}`);
  }
  const used = usage.end();
  times.sort();
  return {
    name,
    eventsSent: sent,
    series,
    bytes: first.bytes,
    scrapes,
    p50Ms: quantile(times, 0.5),
    maxMs: quantile(times, 1),
    cpuMsPerScrape: (used.cpuSeconds / scrapes) * 1000,
  };
}

export async function runScrape(opts: {
  signer: Signer;
  sinkPort: number;
  scrapes: number;
  log: (line: string) => void;
}): Promise<ScrapeResult> {
  const defaults = loadConfig({});
  if (!defaults.ok) throw new Error('default configuration does not load');
  const bound = defaults.config.metricLabelMaxValues;
  const exporter = await startExporter({
    store: 'embedded',
    dataDir: tempDir('vie-bench-scrape-'),
    ...opts.signer,
    sinkPort: opts.sinkPort,
  });
  try {
    const traffic = new LabelTraffic(templates());
    const cases: ScrapeCase[] = [];
    const aligned = alignedEvents(traffic, bound);
    await send(exporter, opts.signer, aligned);
    cases.push(await timeScrapes(exporter, opts.scrapes, 'aligned', aligned.length));
    opts.log(`  aligned: ${cases[0]?.series} series, p50 ${cases[0]?.p50Ms.toFixed(1)} ms`);
    const cross = crossEvents(traffic, bound);
    await send(exporter, opts.signer, cross);
    cases.push(await timeScrapes(exporter, opts.scrapes, 'cross', cross.length));
    opts.log(`  cross: ${cases[1]?.series} series, p50 ${cases[1]?.p50Ms.toFixed(1)} ms`);
    return { maxValuesPerLabel: bound, cases };
  } finally {
    await exporter.kill();
  }
}

// Prototype pollution: bodies with "__proto__" / "constructor.prototype" keys (and hostile names such
// as "__proto__" or "hasOwnProperty" as ids, types, schema names and label values) go through the
// real pipeline in-process. Nothing may reach Object.prototype, the converted records may carry no
// hostile key or foreign prototype, and the valid events around the hostile keys are still accepted.
import { afterAll, afterEach, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import { isEventType } from '../../src/events/types.js';
import { listFixtures, loadFixture, loadFixtureEvents } from '../support/fixtures.js';
import { startExporter, type Harness } from '../support/harness.js';
import { parseSamples } from '../support/prom.js';

type Obj = Record<string, unknown>;

const MARK = 'polluted-by-test';
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype'];
const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
];

// ---------------------------------------------------------------------------------------------
// Prototypes before any body is parsed

const WATCHED: readonly [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
];

type Snapshot = Map<string, Map<PropertyKey, unknown>>;

function snapshotPrototypes(): Snapshot {
  const snap: Snapshot = new Map();
  for (const [name, proto] of WATCHED) {
    const props = new Map<PropertyKey, unknown>();
    for (const key of Reflect.ownKeys(proto)) {
      // The typed descriptor declares get as a function property, so reading it does not unbind a method.
      const d: TypedPropertyDescriptor<unknown> | undefined = Object.getOwnPropertyDescriptor(proto, key);
      props.set(key, d === undefined ? undefined : 'value' in d ? d.value : d.get);
    }
    snap.set(name, props);
  }
  return snap;
}

const BEFORE = snapshotPrototypes();

function assertNotPolluted(): void {
  assert.equal(({} as Obj)['polluted'], undefined, '({}).polluted');
  assert.equal(([] as unknown as Obj)['polluted'], undefined, '[].polluted');
  assert.equal(Object.getPrototypeOf(Object.prototype), null, 'Object.prototype has no prototype');
  const now = snapshotPrototypes();
  for (const [name] of WATCHED) {
    const was = BEFORE.get(name) ?? new Map<PropertyKey, unknown>();
    const is = now.get(name) ?? new Map<PropertyKey, unknown>();
    assert.deepEqual([...is.keys()].map(String).sort(), [...was.keys()].map(String).sort(), `own keys of ${name}`);
    for (const [key, value] of was) assert.ok(is.get(key) === value, `${name}.${String(key)} was replaced`);
  }
}

// ---------------------------------------------------------------------------------------------
// Building hostile events

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own enumerable property, even for "__proto__" (assignment would set the prototype instead). */
function setOwn(target: Obj, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A "__proto__" key holding `value` as an own property, the way JSON.parse builds it. */
function protoKey(value: unknown): Obj {
  const o: Obj = {};
  setOwn(o, '__proto__', value);
  return o;
}

/** Adds __proto__, constructor.prototype and prototype keys to every object under `node` (data sent as a JSON string too). */
function pollute(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) pollute(item);
    return;
  }
  if (!isObject(node)) return;
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (key === 'data' && typeof child === 'string') {
      const decoded: unknown = JSON.parse(child);
      pollute(decoded);
      node[key] = JSON.stringify(decoded);
    } else {
      pollute(child);
    }
  }
  setOwn(node, '__proto__', { polluted: MARK, ...protoKey({ polluted: MARK }) });
  setOwn(node, 'constructor', { prototype: { polluted: MARK } });
  setOwn(node, 'prototype', { polluted: MARK });
}

let idCounter = 0;
const freshId = (tag: string) =>
  `EZ${(++idCounter).toString(16).padStart(8, '0')}${Buffer.from(tag).toString('hex').padEnd(24, '0').slice(0, 24)}`;

/** Every event of every non-invalid fixture, cloned, with a fresh id. */
function validEvents(tag: string): Obj[] {
  return listFixtures()
    .filter((f) => !f.startsWith('invalid/'))
    .flatMap((f) => loadFixtureEvents(f))
    .map((event) => ({ ...(JSON.parse(JSON.stringify(event)) as Obj), id: freshId(tag) }));
}

function fixtureEvent(path: string, tag: string): Obj {
  const [event] = loadFixtureEvents(path);
  if (event === undefined) throw new Error(`no event in ${path}`);
  return { ...(JSON.parse(JSON.stringify(event)) as Obj), id: freshId(tag) };
}

/** Own data object of an event (fixtures used here carry data as an object). */
function dataOf(event: Obj): Obj {
  const data = event['data'];
  if (!isObject(data)) throw new Error('fixture data is not an object');
  return data;
}

/** Every value under `node` that is an object must have a plain prototype and no hostile own key. */
function foreignShapes(node: unknown, path = 'record', out: string[] = []): string[] {
  if (typeof node === 'string' && node.includes(MARK)) out.push(`${path} holds the pollution payload`);
  if (typeof node !== 'object' || node === null) return out;
  const proto: unknown = Object.getPrototypeOf(node);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null)
    out.push(`${path} has a foreign prototype`);
  for (const key of Reflect.ownKeys(node)) {
    if (typeof key === 'string' && HOSTILE_KEYS.includes(key)) out.push(`${path} has own key ${key}`);
    foreignShapes((node as Obj)[String(key)], `${path}.${String(key)}`, out);
  }
  return out;
}

const report = (accepted: number, extra: Partial<Record<'duplicate' | 'invalid' | 'unknown_type', number>> = {}) => ({
  accepted,
  duplicate: 0,
  invalid: 0,
  unknown_type: 0,
  ...extra,
});

// ---------------------------------------------------------------------------------------------

describe('prototype pollution through the pipeline', () => {
  let harness: Harness | undefined;
  const exporter = (): Harness => {
    if (harness === undefined) throw new Error('exporter not started');
    return harness;
  };

  beforeAll(async () => {
    harness = await startExporter();
  });
  afterAll(async () => {
    await harness?.stop();
  });
  afterEach(() => assertNotPolluted());

  test('every valid fixture, with __proto__/constructor.prototype/prototype keys in every object, is accepted', async () => {
    const events = validEvents('everywhere');
    for (const event of events) pollute(event);
    const body = Buffer.from(JSON.stringify(events));
    assert.ok(body.includes('"__proto__":{"polluted"'), 'the body really carries __proto__ keys');
    assert.deepEqual(await exporter().app.ingest.ingestBody(body), report(events.length));
  });

  test('converted records of polluted events carry no hostile key, payload or foreign prototype', () => {
    const events = validEvents('records');
    for (const event of events) pollute(event);
    const problems: string[] = [];
    for (const event of JSON.parse(JSON.stringify(events)) as unknown[]) {
      const parsed = parseEnvelope(event);
      assert.ok(parsed.ok, `envelope rejected: ${JSON.stringify(parsed.ok ? [] : parsed.issues)}`);
      const { info } = parsed.envelope;
      assert.ok(isEventType(info.type), info.type);
      const converted = FAMILIES[info.type](parsed.envelope);
      assert.ok(converted.ok, `${info.type} rejected: ${JSON.stringify(converted.ok ? [] : converted.issues)}`);
      problems.push(
        ...foreignShapes(converted.value, info.type),
        ...foreignShapes(parsed.envelope.info, `${info.type} info`),
      );
    }
    assert.deepEqual(problems, []);
  });

  test('the body itself: a bare object and a top-level array element with hostile keys beside a valid event', async () => {
    const bare = fixtureEvent('call-metrics/sdk-edge-one-second-sample.json', 'bare');
    setOwn(bare, '__proto__', { polluted: MARK, id: 'not-this', type: 'not-this' });
    setOwn(bare, 'constructor', { prototype: { polluted: MARK } });
    assert.deepEqual(await exporter().app.ingest.ingestBody(Buffer.from(JSON.stringify(bare))), report(1));

    // An element that is nothing but hostile keys is not a CloudEvent (dead-lettered); its neighbour counts.
    const hostileOnly = protoKey({ polluted: MARK, id: freshId('x'), type: 'com.twilio.eventstreams.test-event' });
    setOwn(hostileOnly, 'constructor', { prototype: { polluted: MARK } });
    const neighbour = fixtureEvent('test-event/sink-test.json', 'neighbour');
    assert.deepEqual(
      await exporter().app.ingest.ingestBody(Buffer.from(JSON.stringify([hostileOnly, neighbour]))),
      report(1, { invalid: 1 }),
    );
  });

  test('hand-written JSON: nested and repeated __proto__ keys, __proto__ inside data sent as a string', async () => {
    const sid = 'CAaab3a60abec9df31e6c45712dec1dfa1';
    const data = `{"__proto__":{"__proto__":{"polluted":"${MARK}"}},"__proto__":{"polluted":"${MARK}"},"timestamp":"2025-03-14T16:10:40.000Z","call_sid":"${sid}","edge":"sip_edge","sip_edge":{"__proto__":{"codec_name":"evil"},"codec_name":"pcmu","interval":{"__proto__":null,"packets_received":50},"metadata":{"constructor":{"prototype":{"polluted":"${MARK}"}},"region":"us1"}}}`;
    const envelope = (id: string, dataText: string) =>
      `{"__proto__":{"polluted":"${MARK}"},"specversion":"1.0","type":"com.twilio.voice.insights.call-metrics.gateway","id":"${id}","__proto__":{"type":"x"},"time":"2025-03-14T16:11:25.001Z","data":${dataText}}`;
    const body = `[${envelope(freshId('obj'), data)},${envelope(freshId('str'), JSON.stringify(data))}]`;
    assert.deepEqual(await exporter().app.ingest.ingestBody(Buffer.from(body)), report(2));
  });

  test('hostile names as id, type, schema name and label values: counted normally, metrics still well-formed', async () => {
    const events: Obj[] = [];
    // Ids and schema names that are Object.prototype members.
    for (const name of HOSTILE_NAMES) {
      const e = fixtureEvent('test-event/sink-test-data-object.json', name);
      e['id'] = name;
      e['dataschema'] = `https://events-schemas.twilio.com/${name}/1`;
      events.push(e);
    }
    // Label values (codec, region, event group/name, call type/state/direction, tags, edge).
    for (const name of HOSTILE_NAMES) {
      const metric = fixtureEvent('call-metrics/gateway-carrier-edge-interval.json', `m-${name}`);
      const md = dataOf(metric);
      md['edge'] = name;
      const edge = dataOf(metric)['carrier_edge'];
      if (isObject(edge)) {
        edge['codec_name'] = name;
        if (isObject(edge['metadata'])) edge['metadata']['region'] = name;
      }
      const callEvent = fixtureEvent('call-events/gateway-call-connected.json', `e-${name}`);
      dataOf(callEvent)['group'] = name;
      dataOf(callEvent)['name'] = name;
      const summary = fixtureEvent('call-summary/complete-carrier-call.json', `s-${name}`);
      const sd = dataOf(summary);
      sd['call_type'] = name;
      sd['call_state'] = name;
      sd['tags'] = [...HOSTILE_NAMES];
      if (isObject(sd['properties'])) {
        sd['properties']['direction'] = name;
        sd['properties']['disconnected_by'] = name;
      }
      events.push(metric, callEvent, summary);
    }
    // Types that are Object.prototype members are unknown types, not lookups into a table.
    const unknown = HOSTILE_NAMES.map((name) => ({
      ...fixtureEvent('test-event/sink-test.json', `t-${name}`),
      type: name,
    }));
    const result = await exporter().app.ingest.ingestBody(Buffer.from(JSON.stringify([...events, ...unknown])));
    assert.deepEqual(result, report(events.length, { unknown_type: unknown.length }));

    const samples = parseSamples(await exporter().scrape());
    assert.ok(samples.length > 0);
    const leaked = samples.filter((s) => Object.values(s.labels).some((v) => v.includes(MARK)));
    assert.deepEqual(leaked, []);
  });

  test('the checked-in prototype-pollution fixture, signed over HTTP, is accepted', async () => {
    const fixture = loadFixture('call-metrics/prototype-pollution-keys.json');
    const res = await exporter().post(Buffer.from(JSON.stringify(fixture)));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, report(1));
  });
});

// Hostile-input sweep against the BUILT server as a child process. Every body is correctly signed, so
// it passes the signature check and reaches the body reader, the JSON decoder, the envelope and the
// family schemas. Bodies come from a seeded PRNG (SWEEP_SEED overrides the default; every failure
// message names the seed and the case number, and case i is generated from its own sub-seed, so one
// case can be reproduced alone). The contract (DESIGN section 3): a signed body is answered 200, 400,
// 413 or 415, never 5xx, never a hang; the process survives; memory stays bounded.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import { Rng as SimRng } from '../../src/sim/random.js';
import { EVENT_TYPES } from '../../src/events/types.js';
import assert from '../support/assert.js';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listFixtures, loadFixtureEvents } from '../support/fixtures.js';
import { sampleValue } from '../support/prom.js';
import {
  ensureBuilt,
  getStatus,
  readRssBytes,
  signedPost,
  spawnExporter,
  type ChildExporter,
} from '../support/child.js';

const DEFAULT_SEED = 0x5eed_2025;
const SEED = (process.env['SWEEP_SEED'] === undefined ? DEFAULT_SEED : Number(process.env['SWEEP_SEED'])) >>> 0;
const TOKEN = 'sweep-token-7c1e0b5a9d';
const MAX_BODY_BYTES = 1024 * 1024;
/** MAX_EVENTS_PER_REQUEST (its default): longer arrays are refused with 413 before any element is examined. */
const MAX_EVENTS = 1000;
const CONCURRENCY = 8;
/** Twilio itself gives up after 5 s; twice that leaves room for a busy 2-core machine. */
const REQUEST_TIMEOUT_MS = 10_000;
const WARM_UP_REQUESTS = 200;
const RSS_CEILING_BYTES = 400 * 1024 * 1024;
const RSS_GROWTH_LIMIT_BYTES = 150 * 1024 * 1024;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** The simulator's seeded generator, plus what hostile bodies need. */
class Rng extends SimRng {
  bool(p = 0.5): boolean {
    return this.chance(p);
  }
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }
}

/** Case i's own seed, so a failing case can be regenerated without the ones before it. */
function caseSeed(index: number): number {
  return (SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// JSON building blocks: raw tokens (1e309, -0, nesting too deep for JSON.stringify) are spliced into
// the serialised text through placeholders; keys such as "__proto__" are defined as own properties.

type Json = Record<string, unknown> | unknown[];

class Builder {
  private readonly raws: string[] = [];
  /** A placeholder value that serialises as the given JSON text, verbatim. */
  raw(text: string): string {
    this.raws.push(text);
    return `@@raw:${this.raws.length - 1}@@`;
  }
  encode(value: unknown): string {
    return JSON.stringify(value).replace(/"@@raw:(\d+)@@"/g, (_match, i: string) => this.raws[Number(i)] ?? 'null');
  }
}

/** Defines an own enumerable property, even for "__proto__" (plain assignment would set the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  // JSON.parse keeps "__proto__" keys as own properties, so hostile fixtures survive the copy.
  return JSON.parse(JSON.stringify(value)) as T;
}

type PathSegment = string | number;

/** Paths of every node under `root` (objects, arrays and leaves), root excluded. */
function nodePaths(root: unknown, prefix: PathSegment[] = [], out: PathSegment[][] = []): PathSegment[][] {
  if (Array.isArray(root)) {
    root.forEach((child, i) => {
      out.push([...prefix, i]);
      nodePaths(child, [...prefix, i], out);
    });
  } else if (isObject(root)) {
    for (const key of Object.keys(root)) {
      out.push([...prefix, key]);
      nodePaths(root[key], [...prefix, key], out);
    }
  }
  return out;
}

function getAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isObject(node) && typeof segment === 'string') node = node[segment];
    else return undefined;
  }
  return node;
}

function setAt(root: unknown, path: readonly PathSegment[], value: unknown): void {
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = value;
  else if (isObject(parent) && typeof last === 'string') setOwn(parent, last, value);
}

// ---------------------------------------------------------------------------------------------
// Material

const ALL_FIXTURES = listFixtures();
const VALID_EVENTS = ALL_FIXTURES.filter((f) => !f.startsWith('invalid/')).flatMap((f) => loadFixtureEvents(f));
const ALL_EVENTS = ALL_FIXTURES.flatMap((f) => loadFixtureEvents(f));

function freshId(rng: Rng): string {
  return `EZ${rng.hex(32)}`;
}

/** A valid fixture event with a fresh id (so dedup does not short-circuit it). */
function validEvent(rng: Rng): Record<string, unknown> {
  const event = clone(rng.pick(VALID_EVENTS));
  event['id'] = freshId(rng);
  return event;
}

/** `data` of an event as an object to work on, and a function that puts it back the way it came (object or JSON string). */
function openData(
  event: Record<string, unknown>,
  b: Builder,
): { data: Record<string, unknown> | undefined; close: (asString: boolean) => void } {
  const raw = event['data'];
  let data: Record<string, unknown> | undefined;
  let wasString = false;
  if (isObject(raw)) data = raw;
  else if (typeof raw === 'string') {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isObject(parsed)) {
        data = parsed;
        wasString = true;
      }
    } catch {
      // leave it as it is
    }
  }
  return {
    data,
    close: (asString) => {
      if (data === undefined) return;
      // b.encode splices raw tokens into the inner text, so they survive the string encoding.
      event['data'] = asString || wasString ? b.encode(data) : data;
    },
  };
}

/** Random printable/unicode text, repeated from a 4 KiB chunk up to `bytes` UTF-8 bytes (at most). */
function hugeText(rng: Rng, bytes: number): string {
  const alphabets = [
    'abcdefghijklmnopqrstuvwxyz ',
    'ABCDEF0123456789-_.:/ ',
    'é☃漢字😀\u202e\u200b',
    '"\\\u0000\u0001\n\t',
  ];
  const alphabet = [...rng.pick(alphabets)];
  let chunk = '';
  while (Buffer.byteLength(chunk) < 4096) chunk += rng.pick(alphabet);
  const repeats = Math.floor(bytes / Buffer.byteLength(JSON.stringify(chunk)));
  return chunk.repeat(Math.max(1, repeats));
}

/** Hostile replacement values for a leaf or a node. Some are raw JSON text. */
function hostileValue(rng: Rng, b: Builder): unknown {
  const choices: (() => unknown)[] = [
    () => ({}),
    () => [],
    () => [1, 2, 3],
    () => ({ value: {} }),
    () => ({ min: 'x', max: [], avg: null, value: true }),
    () => true,
    () => false,
    () => null,
    () => 0,
    () => -1,
    () => '',
    () => '   ',
    () => 'x',
    () => 'NaN',
    () => 'Infinity',
    () => '-Infinity',
    () => '0x1f',
    () => '1e309',
    () => '١٢٣',
    () => '12abc',
    () => `${'9'.repeat(rng.int(50, 2000))}x`,
    () => b.raw('1e309'),
    () => b.raw('-1e309'),
    () => b.raw('1e-400'),
    () => b.raw('-0'),
    () => b.raw('9007199254740993'),
    () => b.raw('123456789012345678901234567890e300'),
    () => b.raw(`0.${'0'.repeat(400)}1`),
    () => b.raw(`${'9'.repeat(400)}`),
    () => '\ud800',
    () => '\udfff',
    () => 'a\ud800b',
    () => '\udc00\ud800',
    () => '\u0000',
    () => '\u202e\u200b',
    () => '<script>alert(1)</script>',
    () => '${jndi:ldap://127.0.0.1/a}',
    () => '%s%n%x',
    () => 'unknown_edge',
    () => 'x'.repeat(rng.int(257, 10_000)),
    () => JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
    () => ({ constructor: { prototype: { polluted: true } } }),
    () => new Array<number>(rng.int(1001, 3000)).fill(1),
    () => b.raw(`${'['.repeat(5000)}${']'.repeat(5000)}`),
  ];
  return rng.pick(choices)();
}

interface CaseSpec {
  note: string;
  body: Buffer;
  headers?: Record<string, string>;
  /** Statuses this case may be answered with. */
  expect: readonly number[];
  /** Number of top-level elements (a 200 must report exactly this many outcomes). */
  elements?: number;
  /** A 200 must report every element accepted. */
  allAccepted?: boolean;
}

interface SweepCase extends CaseSpec {
  index: number;
  family: string;
}

const OK_OR_BAD = [200, 400] as const;

function wrap(rng: Rng, b: Builder, events: unknown[], note: string, extra: Partial<CaseSpec> = {}): CaseSpec {
  const single = events.length === 1 && rng.bool(0.25);
  return {
    note: `${note}${single ? ' (bare object)' : ''}`,
    body: Buffer.from(b.encode(single ? events[0] : events)),
    expect: OK_OR_BAD,
    elements: events.length,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Families

function hugeStringCase(rng: Rng, bytes: number): CaseSpec {
  const b = new Builder();
  const text = hugeText(rng, bytes);
  const event = validEvent(rng);
  const where = rng.pick([
    'id',
    'type',
    'data',
    'time',
    'dataschema',
    'source',
    'call_sid',
    'edge',
    'codec_name',
    'tag',
    'unknown',
    'long-fraction-time',
  ]);
  const { data, close } = openData(event, b);
  switch (where) {
    case 'id':
    case 'type':
    case 'data':
    case 'time':
    case 'source':
      event[where] = text;
      break;
    case 'dataschema':
      event['dataschema'] = `https://events-schemas.twilio.com/${text.replace(/[^A-Za-z]/g, 'a')}`;
      break;
    case 'long-fraction-time':
      event['time'] = `2025-03-14T15:21:48.${'1'.repeat(bytes)}`;
      break;
    case 'call_sid':
    case 'edge':
      if (data !== undefined) data[where] = text;
      break;
    case 'codec_name': {
      const edge =
        data === undefined ? undefined : Object.keys(data).find((k) => k.endsWith('_edge') && isObject(data[k]));
      if (data !== undefined && edge !== undefined) (data[edge] as Record<string, unknown>)['codec_name'] = text;
      else if (data !== undefined) data['codec_name'] = text;
      break;
    }
    case 'tag':
      if (data !== undefined) data['tags'] = [text];
      break;
    default:
      if (data !== undefined) setOwn(data, `x_${rng.hex(6)}`, text);
      else event['extension'] = text;
  }
  if (where !== 'data') close(rng.bool(0.3));
  return wrap(rng, b, [event], `~${Math.round(bytes / 1024)} KB string in ${where} of ${String(event['type'])}`);
}

type Family = { name: string; count: number; make: (rng: Rng) => CaseSpec };

const INVALID_UTF8 = [
  [0xc0, 0x80],
  [0xff],
  [0xfe, 0xff],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80, 0x80, 0x80],
];

const families: Family[] = [
  {
    name: 'random-bytes',
    count: 120,
    make: (rng) => {
      const prefix = rng.pick([
        '',
        '',
        '[',
        '{',
        '[{"id":"',
        '[{"id":"EZ1","type":"com.twilio.voice.insights.call-metrics.sdk","data":"',
      ]);
      const parts: Buffer[] = [Buffer.from(prefix)];
      const pieces = rng.int(1, 6);
      for (let i = 0; i < pieces; i++) {
        parts.push(rng.bytes(rng.int(0, rng.bool(0.1) ? 65_536 : 2048)));
        parts.push(Buffer.from(rng.pick(INVALID_UTF8)));
      }
      return { note: `random bytes after ${JSON.stringify(prefix)}`, body: Buffer.concat(parts), expect: [400] };
    },
  },
  {
    name: 'empty',
    count: 4,
    make: (rng) => {
      const text = rng.pick(['', ' ', '\n', '\r\n\t ']);
      return { note: `empty/blank body ${JSON.stringify(text)}`, body: Buffer.from(text), expect: [400] };
    },
  },
  {
    name: 'json-scalar',
    count: 24,
    make: (rng) => {
      const text = rng.pick([
        'null',
        '0',
        '"x"',
        'true',
        'false',
        '-0',
        '1e309',
        '1e-400',
        '""',
        '"\\ud800"',
        '123456789012345678901234567890',
        '  null  ',
        '"[]"',
        '"{\\"id\\":\\"EZ1\\",\\"type\\":\\"t\\"}"',
        '"[{\\"id\\":\\"EZ1\\",\\"type\\":\\"t\\"}]"',
      ]);
      return { note: `JSON scalar ${text}`, body: Buffer.from(text), expect: [400] };
    },
  },
  {
    name: 'no-cloudevents',
    count: 24,
    make: (rng) => {
      const text = rng.pick([
        '[]',
        '[null]',
        '{}',
        '[{}]',
        '[[]]',
        '[1]',
        '["x"]',
        '[true]',
        '[null,null,null]',
        '[{"id":1,"type":2}]',
        '[{"id":"","type":""}]',
        '[{"id":" ","type":"t"}]',
        '[{"id":"EZ1"}]',
        '[{"type":"com.twilio.voice.insights.call-metrics.sdk"}]',
        '[{"id":null,"type":null}]',
        '[{"id":["EZ1"],"type":{"t":1}}]',
      ]);
      return { note: `no CloudEvent: ${text}`, body: Buffer.from(text), expect: [400] };
    },
  },
  {
    name: 'deep-nesting',
    count: 60,
    make: (rng) => {
      const b = new Builder();
      const shape = rng.pick(['arrays', 'objects', 'mixed', 'in-data', 'in-edge', 'in-unknown-field', 'data-string']);
      const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const mixed = (depth: number) => `${'{"a":['.repeat(depth)}${']}'.repeat(depth)}`;
      switch (shape) {
        case 'arrays': {
          const depth = rng.int(10_000, 200_000);
          return { note: `${depth} nested arrays`, body: Buffer.from(arrays(depth)), expect: [400] };
        }
        case 'objects': {
          const depth = rng.int(10_000, 150_000);
          return { note: `${depth} nested objects`, body: Buffer.from(objects(depth)), expect: [400] };
        }
        case 'mixed': {
          const depth = rng.int(10_000, 100_000);
          return { note: `${depth} nested object/array pairs`, body: Buffer.from(`[${mixed(depth)}]`), expect: [400] };
        }
        case 'in-data': {
          const event = validEvent(rng);
          event['data'] = b.raw(rng.bool() ? objects(rng.int(10_000, 140_000)) : arrays(rng.int(10_000, 200_000)));
          return wrap(rng, b, [event], `nesting as data of ${String(event['type'])}`);
        }
        case 'in-edge': {
          const event = clone(
            rng.pick(VALID_EVENTS.filter((e) => String(e['type']).includes('call-metrics') && isObject(e['data']))),
          );
          event['id'] = freshId(rng);
          const data = event['data'] as Record<string, unknown>;
          const edge = rng.pick(['carrier_edge', 'sip_edge', 'client_edge', 'sdk_edge']);
          const deep = b.raw(rng.bool() ? objects(rng.int(10_000, 140_000)) : arrays(rng.int(10_000, 200_000)));
          if (isObject(data[edge])) {
            const edgeObj = data[edge];
            const slot = rng.pick(['interval', 'metadata', 'cumulative', 'unknown']);
            if (slot === 'interval' && isObject(edgeObj['interval']))
              edgeObj['interval']['packet_delay_variation'] = deep;
            else setOwn(edgeObj, slot, deep);
          } else {
            data[edge] = deep;
          }
          return wrap(rng, b, [event], `nesting inside data.${edge}`);
        }
        case 'in-unknown-field': {
          const event = validEvent(rng);
          setOwn(
            event,
            rng.pick(['extension', '__proto__', 'constructor', 'time', 'source']),
            b.raw(mixed(rng.int(10_000, 100_000))),
          );
          return wrap(rng, b, [event], 'nesting in an envelope field');
        }
        default: {
          const event = validEvent(rng);
          event['data'] = rng.bool() ? arrays(rng.int(10_000, 200_000)) : objects(rng.int(10_000, 80_000));
          return wrap(rng, b, [event], 'data as a JSON string of deep nesting');
        }
      }
    },
  },
  {
    name: 'huge-string',
    count: 40,
    make: (rng) => {
      // Escapes grow the text (twice over when data is a JSON string): shrink until the body fits the limit.
      const seed = rng.int(0, 2 ** 32 - 1);
      let target = 900 * 1024;
      for (;;) {
        const spec = hugeStringCase(new Rng(seed), target);
        if (spec.body.length <= MAX_BODY_BYTES) return spec;
        target = Math.floor((target * (MAX_BODY_BYTES - 4096)) / spec.body.length);
      }
    },
  },
  {
    name: 'long-array',
    count: 12,
    make: (rng) => {
      // At the cap every element is examined; past it the body is refused on its length alone (413).
      const n = rng.bool(0.3) ? rng.int(MAX_EVENTS + 1, 10_000) : MAX_EVENTS;
      const over = n > MAX_EVENTS;
      const bad = over ? [413] : [400];
      const ok = over ? [413] : [200];
      const kind = rng.pick([
        'empty-objects',
        'nulls',
        'same-id',
        'unique-unknown',
        'known-type-no-data',
        'empty-arrays',
        'mixed-with-valid',
      ]);
      const b = new Builder();
      switch (kind) {
        case 'empty-objects':
          return {
            note: `${n} x {}`,
            body: Buffer.from(`[${new Array<string>(n).fill('{}').join(',')}]`),
            expect: bad,
          };
        case 'nulls':
          return {
            note: `${n} x null`,
            body: Buffer.from(`[${new Array<string>(n).fill('null').join(',')}]`),
            expect: bad,
          };
        case 'empty-arrays':
          return {
            note: `${n} x []`,
            body: Buffer.from(`[${new Array<string>(n).fill('[]').join(',')}]`),
            expect: bad,
          };
        case 'same-id': {
          const id = freshId(rng);
          const events = Array.from({ length: n }, () => ({ id, type: 'com.example.unknown' }));
          return wrap(rng, b, events, `${n} tiny events sharing one id`, { expect: ok });
        }
        case 'unique-unknown': {
          const events = Array.from({ length: n }, () => ({ id: freshId(rng), type: `x.${rng.hex(4)}` }));
          return wrap(rng, b, events, `${n} tiny events of unknown types`, { expect: ok });
        }
        case 'known-type-no-data': {
          const events = Array.from({ length: n }, () => ({
            id: freshId(rng),
            type: rng.pick(EVENT_TYPES.slice(0, 7)),
          }));
          return wrap(rng, b, events, `${n} known-type events without data`, { expect: ok });
        }
        default: {
          const events: unknown[] = Array.from({ length: n - 1 }, () => ({}));
          events.splice(rng.int(0, n - 1), 0, validEvent(rng));
          return wrap(rng, b, events, `${n - 1} x {} around one valid event`, { expect: ok });
        }
      }
    },
  },
  {
    name: 'fixture-mutation',
    count: 650,
    make: (rng) => {
      const b = new Builder();
      const event = clone(rng.pick(ALL_EVENTS));
      if (rng.bool(0.9)) event['id'] = freshId(rng);
      // Mutate inside the (decoded) data, or anywhere in the event.
      const opened = openData(event, b);
      const inData = opened.data !== undefined && rng.bool(0.6);
      const root: Json = inData && opened.data !== undefined ? opened.data : event;
      const paths = nodePaths(root);
      const leafPaths = paths.filter((p) => {
        const v = getAt(root, p);
        return v === null || typeof v !== 'object';
      });
      const mutations = rng.int(1, 3);
      const notes: string[] = [];
      for (let i = 0; i < mutations; i++) {
        const pool = rng.bool(0.8) && leafPaths.length > 0 ? leafPaths : paths;
        if (pool.length === 0) break;
        const path = rng.pick(pool);
        setAt(root, path, hostileValue(rng, b));
        notes.push(path.join('.'));
      }
      if (inData) opened.close(rng.bool(0.2));
      const events: unknown[] = [event];
      if (rng.bool(0.2)) events.push(validEvent(rng));
      return wrap(rng, b, events, `mutated ${String(event['type'])} at ${notes.join(', ')}`);
    },
  },
  {
    name: 'prototype-pollution',
    count: 150,
    make: (rng) => {
      const b = new Builder();
      const payloads: (() => [string, unknown])[] = [
        () => ['__proto__', { polluted: true }],
        () => ['__proto__', JSON.parse('{"__proto__":{"polluted":true}}') as unknown],
        () => ['__proto__', null],
        () => ['__proto__', 'polluted'],
        () => ['__proto__', []],
        () => ['constructor', { prototype: { polluted: true } }],
        () => ['constructor', JSON.parse('{"prototype":{"__proto__":{"polluted":true}}}') as unknown],
        () => ['prototype', { polluted: true }],
        () => ['toString', 'polluted'],
        () => ['hasOwnProperty', { polluted: true }],
        () => ['valueOf', 1],
      ];
      const count = rng.int(1, 3);
      const events = Array.from({ length: count }, () => validEvent(rng));
      const where: string[] = [];
      for (const event of events) {
        const { data, close } = openData(event, b);
        const targets: Record<string, unknown>[] = [event];
        if (data !== undefined) {
          targets.push(data);
          for (const p of nodePaths(data)) {
            const node = getAt(data, p);
            if (isObject(node)) targets.push(node);
          }
        }
        const edges =
          data === undefined ? [] : Object.keys(data).filter((k) => k.endsWith('_edge') && isObject(data[k]));
        const injections = rng.int(1, 5);
        for (let i = 0; i < injections; i++) {
          const spot = rng.pick(['envelope', 'data', 'edge', 'nested']);
          const edge = edges.length > 0 ? rng.pick(edges) : undefined;
          const target =
            spot === 'envelope' || data === undefined
              ? event
              : spot === 'data'
                ? data
                : spot === 'edge' && edge !== undefined
                  ? (data[edge] as Record<string, unknown>)
                  : rng.pick(targets);
          const [key, value] = rng.pick(payloads)();
          setOwn(target, key, value);
          where.push(
            `${target === event ? 'envelope' : target === data ? 'data' : spot === 'edge' && edge !== undefined ? edge : 'nested'}.${key}`,
          );
        }
        close(rng.bool(0.2));
      }
      return wrap(rng, b, events, `prototype keys at ${where.join(', ')}`, { expect: [200], allAccepted: true });
    },
  },
  {
    name: 'duplicate-keys',
    count: 60,
    make: (rng) => {
      const b = new Builder();
      const event = validEvent(rng);
      const text = b.encode(event);
      const dup = rng.pick([
        `"id":${JSON.stringify(freshId(rng))}`,
        '"id":12345',
        '"id":null',
        `"type":${JSON.stringify(rng.pick(EVENT_TYPES))}`,
        '"type":["x"]',
        '"data":"{"',
        '"data":{"call_sid":{}}',
        '"data":null',
        '"__proto__":{"polluted":true}',
        '"__proto__":{"polluted":true},"__proto__":null',
      ]);
      // Before the first key (the real value wins) or after the last (the duplicate wins).
      const body = rng.bool() ? `{${dup},${text.slice(1)}` : `${text.slice(0, -1)},${dup}}`;
      const asArray = rng.bool(0.7);
      return {
        note: `duplicate key ${dup}`,
        body: Buffer.from(asArray ? `[${body}]` : body),
        expect: OK_OR_BAD,
        elements: 1,
      };
    },
  },
  {
    name: 'long-id',
    count: 15,
    make: (rng) => {
      const b = new Builder();
      const event = validEvent(rng);
      const field = rng.pick(['id', 'type', 'both']);
      const long = rng.bool() ? 'E'.repeat(10_000) : hugeText(rng, 10_000);
      if (field !== 'type') event['id'] = long;
      if (field !== 'id') event['type'] = `${String(event['type'])}${long}`;
      const events: unknown[] = [event];
      if (rng.bool(0.4)) events.push(validEvent(rng));
      return wrap(rng, b, events, `10k-char ${field}`);
    },
  },
  {
    name: 'hostile-data-string',
    count: 70,
    make: (rng) => {
      const b = new Builder();
      const event = validEvent(rng);
      const data = rng.pick<() => string>([
        () =>
          '{"__proto__":{"polluted":true},"call_sid":"CAaab3a60abec9df31e6c45712dec1dfa1","timestamp":"2025-03-14T16:10:40.000Z"}',
        () => '{"constructor":{"prototype":{"polluted":true}},"call_sid":"CAaab3a60abec9df31e6c45712dec1dfa1"}',
        () => `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
        () => `${'{"a":'.repeat(50_000)}0${'}'.repeat(50_000)}`,
        () => '[1,2]',
        () => 'null',
        () => '1e309',
        () => '"\\ud800"',
        () => '\ud800',
        () => '{"call_sid":"\\ud800","timestamp":"\\udfff"}',
        () => '',
        () => ' ',
        () => '{',
        () => JSON.stringify(JSON.stringify({ call_sid: 'CA1' })),
        () => JSON.stringify(JSON.stringify(JSON.stringify({ call_sid: 'CA1' }))),
        () => `{"call_sid":"CA1","x":"${'y'.repeat(200_000)}"}`,
        () => '{"call_sid":"CA1","call_sid":{"__proto__":1}}',
        () => hugeText(rng, 100_000),
      ])();
      event['data'] = data;
      return wrap(rng, b, [event], `data as hostile JSON string (${data.length} chars)`);
    },
  },
  {
    name: 'unknown-type',
    count: 60,
    make: (rng) => {
      const b = new Builder();
      const event = validEvent(rng);
      event['type'] = rng.pick([
        'constructor',
        '__proto__',
        'toString',
        'hasOwnProperty',
        'prototype',
        'com.twilio.voice.insights.call-metrics.gateway ',
        ' com.twilio.voice.insights.call-metrics.gateway',
        'COM.TWILIO.VOICE.INSIGHTS.CALL-METRICS.GATEWAY',
        'com.twilio.voice.insights.call-metrics',
        'com.twilio.voice.insights.call-metrics.gateway\u0000',
        'com.twilio.voice.insights.call-metrics.gateway\ud800',
        `com.example.${rng.hex(8)}`,
        `x${rng.hex(200)}`,
        '☃',
      ]);
      const events: unknown[] = [event];
      if (rng.bool(0.3)) events.push(validEvent(rng));
      return wrap(rng, b, events, `unknown type ${JSON.stringify(event['type'])}`, { expect: [200] });
    },
  },
  {
    name: 'over-limit',
    count: 6,
    make: (rng) => {
      const size = rng.pick([MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 4096, 2 * MAX_BODY_BYTES, 5 * MAX_BODY_BYTES]);
      const fill = rng.pick(['[', ' ', 'a']);
      return { note: `${size}-byte body of ${JSON.stringify(fill)}`, body: Buffer.alloc(size, fill), expect: [413] };
    },
  },
  {
    name: 'wrong-content-type',
    count: 10,
    make: (rng) => {
      const b = new Builder();
      const headers = rng.pick<Record<string, string>>([
        { 'content-type': 'text/plain' },
        { 'content-type': 'application/x-www-form-urlencoded' },
        { 'content-type': 'multipart/form-data; boundary=xyz' },
        { 'content-type': 'application/xml' },
        { 'content-type': 'image/png' },
        { 'content-type': 'text/html; charset=utf-8' },
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        { 'content-type': 'application/json', 'content-encoding': 'br' },
      ]);
      return {
        note: `headers ${JSON.stringify(headers)}`,
        body: Buffer.from(b.encode([validEvent(rng)])),
        headers,
        expect: [415],
      };
    },
  },
];

/** The sweep's plan: family per case number, shuffled by SEED. Bodies are generated when sent. */
function planCases(): string[] {
  const order: string[] = [];
  for (const f of families) for (let i = 0; i < f.count; i++) order.push(f.name);
  return new Rng(SEED).shuffle(order);
}

const FAMILY_BY_NAME = new Map(families.map((f) => [f.name, f]));

/** Case `index` of the plan, generated from its own sub-seed. */
function materialize(index: number, name: string): SweepCase {
  const family = FAMILY_BY_NAME.get(name);
  if (family === undefined) throw new Error(`no family ${name}`);
  return { index, family: name, ...family.make(new Rng(caseSeed(index))) };
}

// ---------------------------------------------------------------------------------------------
// Checking answers

interface Answer {
  status?: number;
  error?: string;
  json?: unknown;
  ms: number;
}

function describeCase(c: SweepCase): string {
  const preview = c.body
    .subarray(0, 160)
    .toString('utf8')
    .replace(/[^\x20-\x7e]/g, '?');
  return `seed ${SEED} case #${c.index} [${c.family}] ${c.note}; ${c.body.length} bytes; starts ${JSON.stringify(preview)}`;
}

/** Problems with one answer (empty when it is fine). */
function judge(c: SweepCase, a: Answer): string[] {
  if (a.status === undefined) return [`no answer after ${a.ms} ms: ${a.error ?? '?'}`];
  const problems: string[] = [];
  if (![200, 400, 413, 415].includes(a.status)) problems.push(`status ${a.status} is outside {200, 400, 413, 415}`);
  else if (!c.expect.includes(a.status)) problems.push(`status ${a.status}, expected one of ${c.expect.join('/')}`);
  if (a.status === 200) {
    const r = a.json;
    if (!isObject(r) || !['accepted', 'duplicate', 'invalid', 'unknown_type'].every((k) => typeof r[k] === 'number')) {
      problems.push(`200 without an outcome report: ${JSON.stringify(r)}`);
    } else {
      const total = Number(r['accepted']) + Number(r['duplicate']) + Number(r['invalid']) + Number(r['unknown_type']);
      if (c.elements !== undefined && total !== c.elements)
        problems.push(`report counts ${total} outcomes for ${c.elements} elements: ${JSON.stringify(r)}`);
      if (c.allAccepted === true && r['accepted'] !== c.elements)
        problems.push(`expected all ${String(c.elements)} accepted: ${JSON.stringify(r)}`);
    }
  }
  return problems;
}

async function send(webhookUrl: string, c: SweepCase): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await signedPost(webhookUrl, TOKEN, c.body, {
      headers: c.headers ?? {},
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    return { status: res.status, json: res.json, ms: Date.now() - started };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err), ms: Date.now() - started };
  }
}

function deadLetterBytes(dataDir: string): number {
  return readdirSync(dataDir)
    .filter((name) => name.startsWith('dead-letter'))
    .reduce((sum, name) => sum + statSync(join(dataDir, name)).size, 0);
}

const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

// ---------------------------------------------------------------------------------------------

describe('signed hostile bodies against the built server', () => {
  let child: ChildExporter | undefined;
  let plan: string[] = [];
  const statusCounts = new Map<number, number>();

  beforeAll(async () => {
    await ensureBuilt();
    plan = planCases();
    child = await spawnExporter({
      env: {
        TWILIO_AUTH_TOKEN: TOKEN,
        MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        MAX_EVENTS_PER_REQUEST: String(MAX_EVENTS),
        LOG_LEVEL: 'warn',
      },
      captureBytes: 256 * 1024,
    });
  });

  afterAll(async () => {
    await child?.kill();
  });

  const running = (): ChildExporter => {
    if (child === undefined) throw new Error('the child exporter did not start');
    return child;
  };

  test(`every answer is 200/400/413/415, promptly; the process survives with bounded memory (seed ${SEED})`, async () => {
    const c = running();
    assert.ok(plan.length >= 1200, `only ${plan.length} cases`);
    const failures: string[] = [];
    let rssAfterWarmUp: number | undefined;
    let next = 0;
    let done = 0;
    let stop = false;
    let slowest = { ms: 0, what: '-' };
    const started = Date.now();

    const worker = async (): Promise<void> => {
      while (!stop) {
        const index = next++;
        const name = plan[index];
        if (name === undefined) return;
        const current = materialize(index, name);
        const answer = await send(c.webhookUrl, current);
        if (answer.status !== undefined) statusCounts.set(answer.status, (statusCounts.get(answer.status) ?? 0) + 1);
        if (answer.ms > slowest.ms) slowest = { ms: answer.ms, what: `case #${index} [${name}] ${current.note}` };
        for (const problem of judge(current, answer)) failures.push(`${describeCase(current)}: ${problem}`);
        // A hang or a dead server makes every later answer meaningless: stop early.
        if (answer.status === undefined || failures.length >= 10) stop = true;
        done++;
        if (done === WARM_UP_REQUESTS) rssAfterWarmUp = readRssBytes(c.pid);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    const rssAtEnd = readRssBytes(c.pid);
    const seconds = (Date.now() - started) / 1000;

    console.info(`seed ${SEED}: ${done} signed requests in ${seconds.toFixed(1)} s, ${CONCURRENCY} in flight`);
    console.info(`statuses: ${JSON.stringify(Object.fromEntries([...statusCounts].sort((a, b) => a[0] - b[0])))}`);
    console.info(`slowest answer ${slowest.ms} ms: ${slowest.what}`);
    console.info(
      `child RSS after ${WARM_UP_REQUESTS} requests: ${rssAfterWarmUp === undefined ? '?' : mb(rssAfterWarmUp)}; at end: ${rssAtEnd === undefined ? '?' : mb(rssAtEnd)}`,
    );
    console.info(`dead-letter files: ${mb(deadLetterBytes(c.dataDir))}`);

    assert.deepEqual(
      failures,
      [],
      `${failures.length} bad answers (seed ${SEED}; rerun with SWEEP_SEED=${SEED}):\n${failures.join('\n')}`,
    );
    assert.equal(done, plan.length, `only ${done} of ${plan.length} cases were sent (seed ${SEED})`);
    assert.equal(c.exitInfo(), undefined, `the exporter exited: ${JSON.stringify(c.exitInfo())}\n${c.stderr()}`);
    assert.equal(await getStatus(`${c.origin}/healthz`), 200, `/healthz after the sweep (seed ${SEED})`);

    assert.ok(rssAfterWarmUp !== undefined && rssAtEnd !== undefined, 'VmRSS readable from /proc/<pid>/status');
    assert.ok(rssAtEnd < RSS_CEILING_BYTES, `RSS at end ${mb(rssAtEnd)} >= ${mb(RSS_CEILING_BYTES)} (seed ${SEED})`);
    assert.ok(
      rssAtEnd - rssAfterWarmUp < RSS_GROWTH_LIMIT_BYTES,
      `RSS grew ${mb(rssAtEnd - rssAfterWarmUp)} after warm-up (${mb(rssAfterWarmUp)} -> ${mb(rssAtEnd)}; seed ${SEED})`,
    );
  });

  test('a valid fixture is still accepted after the sweep', async () => {
    const c = running();
    const [event] = loadFixtureEvents('call-metrics/sdk-edge-one-second-sample.json');
    assert.ok(event !== undefined);
    const body = Buffer.from(JSON.stringify([{ ...event, id: `EZ${'f0'.repeat(15)}99` }]));
    const res = await signedPost(c.webhookUrl, TOKEN, body);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 0 });
  });

  test('/metrics counts no 500 and no 503, and every 400/413/415 the sweep saw', async () => {
    const c = running();
    const res = await fetch(c.metricsUrl, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const text = await res.text();
    const requests = 'voice_insights_exporter_webhook_requests_total';
    assert.equal(sampleValue(text, requests, { code: '500' }), 0, `${requests}{code="500"} (seed ${SEED})`);
    assert.equal(sampleValue(text, requests, { code: '503' }), 0, `${requests}{code="503"} (seed ${SEED})`);
    for (const code of [400, 413, 415]) {
      assert.equal(
        sampleValue(text, requests, { code: String(code) }),
        statusCounts.get(code) ?? 0,
        `${requests}{code="${code}"}`,
      );
    }
    assert.equal(sampleValue(text, 'voice_insights_exporter_ready'), 1);
  });

  // Last on purpose: if this regresses, the server is busy for minutes and nothing after it could run.
  test("a numeric field holding a ~1 MB digit string followed by a letter is answered within Twilio's 5 s", async () => {
    const c = running();
    const [fixture] = loadFixtureEvents('call-metrics/gateway-carrier-edge-interval.json');
    assert.ok(fixture !== undefined && isObject(fixture['data']));
    const event = clone(fixture);
    event['id'] = `EZ${'d1'.repeat(16)}`;
    const data = event['data'] as Record<string, unknown>;
    const edge = Object.keys(data).find((k) => k.endsWith('_edge') && isObject(data[k]));
    assert.ok(edge !== undefined);
    const digits = MAX_BODY_BYTES - Buffer.byteLength(JSON.stringify([event])) - 1024;
    setOwn(data[edge] as Record<string, unknown>, 'codec', `${'1'.repeat(digits)}x`);
    const body = Buffer.from(JSON.stringify([event]));
    const started = Date.now();
    let status: number | undefined;
    let error = '';
    try {
      status = (await signedPost(c.webhookUrl, TOKEN, body, { timeoutMs: 5000 })).status;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    assert.equal(
      status,
      200,
      `data.${edge}.codec = "1" x ${digits} + "x" (${body.length}-byte signed body): no answer within 5 s (${Date.now() - started} ms; ${error}).` +
        ' The numeric-string check in src/events/fields.ts backtracks quadratically on long digit runs, blocking the event loop.',
    );
  });
});

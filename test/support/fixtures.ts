// Reads JSON fixtures from test/fixtures (see test/fixtures/README.md for what lives where).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnvelope } from '../../src/events/envelope.js';
import type { Envelope } from '../../src/events/family.js';

const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The fixture's parsed JSON: a CloudEvent object or an array of them (Twilio's webhook body is an array). */
export function loadFixture(relPath: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, relPath), 'utf8')) as unknown;
}

/** The fixture's CloudEvents, always as an array; throws if an element is not a JSON object. */
export function loadFixtureEvents(relPath: string): Record<string, unknown>[] {
  const loaded = loadFixture(relPath);
  const elements: unknown[] = Array.isArray(loaded) ? loaded : [loaded];
  return elements.map((element, index) => {
    if (typeof element !== 'object' || element === null || Array.isArray(element)) {
      throw new Error(`fixture ${relPath}: element ${index} is not a JSON object`);
    }
    return element as Record<string, unknown>;
  });
}

/** Every *.json fixture, as paths relative to test/fixtures with "/" separators, sorted. */
export function listFixtures(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.json') ? [relative(FIXTURES_DIR, path).split(sep).join('/')] : [];
    });
  return walk(FIXTURES_DIR).sort();
}

/** The `index`th CloudEvent of a fixture through parseEnvelope; throws if the envelope is rejected. */
export function fixtureEnvelope(relPath: string, index = 0): Envelope {
  const element = loadFixtureEvents(relPath)[index];
  if (element === undefined) throw new Error(`fixture ${relPath}: no element ${index}`);
  const parsed = parseEnvelope(element);
  if (!parsed.ok) throw new Error(`fixture ${relPath}: envelope rejected: ${JSON.stringify(parsed.issues)}`);
  return parsed.envelope;
}

import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEAD_LETTER_FILE, FileDeadLetterSink, type DeadLetter } from '../../src/store/dead-letter.js';

const letter = (
  n: number,
  event: unknown = { id: `EZ${n}`, type: 't', data: { pad: 'x'.repeat(200) } },
): DeadLetter => ({
  receivedAt: Date.UTC(2026, 10, 24),
  reason: 'schema',
  id: `EZ${n}`,
  type: 'com.twilio.voice.insights.call-metrics.sdk',
  issues: [{ path: 'data.call_sid', message: 'Invalid input: expected string, received undefined' }],
  event,
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One line of the dead-letter file, which must be a JSON object. */
function parseLine(line: string): Record<string, unknown> {
  const value: unknown = JSON.parse(line);
  assert.ok(isRecord(value), `a dead letter is a JSON object: ${line.slice(0, 200)}`);
  return value;
}

/** A field of a parsed line that must be a string. */
function stringField(line: Record<string, unknown> | undefined, key: string): string {
  const value = line?.[key];
  assert.ok(typeof value === 'string', `${key} is a string`);
  return value;
}

test('dead letters are JSON lines with reason, issues and the event as received', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dl-'));
  const sink = new FileDeadLetterSink(dir, 64 * 1024);
  await sink.open();
  await sink.write([letter(1), letter(2)]);
  await sink.close();
  const lines = (await readFile(join(dir, DEAD_LETTER_FILE), 'utf8')).trim().split('\n').map(parseLine);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.['id'], 'EZ1');
  assert.equal(lines[0]?.['reason'], 'schema');
  assert.equal(lines[0]?.['received_at'], '2026-11-24T00:00:00.000Z');
  assert.deepEqual(lines[0]?.['issues'], [
    { path: 'data.call_sid', message: 'Invalid input: expected string, received undefined' },
  ]);
  const event = lines[1]?.['event'];
  assert.ok(isRecord(event), 'the event is kept as received');
  assert.equal(event['id'], 'EZ2');
});

test('the two files together never exceed the byte budget', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dl-'));
  const budget = 64 * 1024;
  const sink = new FileDeadLetterSink(dir, budget);
  await sink.open();
  for (let i = 0; i < 1000; i++) await sink.write([letter(i)]);
  await sink.close();
  const current = (await stat(join(dir, DEAD_LETTER_FILE))).size;
  const rotated = (await stat(join(dir, `${DEAD_LETTER_FILE}.1`))).size;
  assert.ok(current + rotated <= budget, `${current} + ${rotated} <= ${budget}`);
  const last = (await readFile(join(dir, DEAD_LETTER_FILE), 'utf8')).trim().split('\n').pop() ?? '';
  assert.equal(parseLine(last)['id'], 'EZ999', 'the newest letter is kept');
});

test('an event too large or too deep to keep is recorded without its body', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dl-'));
  const sink = new FileDeadLetterSink(dir, 64 * 1024);
  await sink.open();
  let deep: unknown = {};
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  await sink.write([letter(1, { big: 'y'.repeat(100_000) }), letter(2, deep)]);
  await sink.close();
  const lines = (await readFile(join(dir, DEAD_LETTER_FILE), 'utf8')).trim().split('\n').map(parseLine);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.['event'], undefined);
  assert.match(stringField(lines[0], 'event_omitted'), /larger/);
  assert.match(stringField(lines[1], 'event_omitted'), /serialis/);
});

test('one batch larger than the budget still leaves both files within it, newest letters kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dl-'));
  const budget = 64 * 1024;
  const sink = new FileDeadLetterSink(dir, budget);
  await sink.open();
  await sink.write(Array.from({ length: 3000 }, (_, i) => letter(i)));
  await sink.close();
  const current = (await stat(join(dir, DEAD_LETTER_FILE))).size;
  const rotated = (await stat(join(dir, `${DEAD_LETTER_FILE}.1`))).size;
  assert.ok(current + rotated <= budget, `${current} + ${rotated} <= ${budget}`);
  const last = (await readFile(join(dir, DEAD_LETTER_FILE), 'utf8')).trim().split('\n').pop() ?? '';
  assert.equal(parseLine(last)['id'], 'EZ2999');
});

// Renders the README's metrics table from the one catalog (src/telemetry/catalog.ts).
// `npm run docs` writes it into README.md; test/readme.test.ts fails when the two drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { CATALOG } from '../src/telemetry/catalog.js';

export const TABLE_START =
  '<!-- metrics-table: generated from src/telemetry/catalog.ts; test/readme.test.ts keeps it in step -->';
export const TABLE_END = '<!-- /metrics-table -->';

export function renderMetricsTable(): string {
  const rows = CATALOG.map((m) => {
    const labels = m.labels.length === 0 ? '' : m.labels.map((l) => `\`${l}\``).join(', ');
    const buckets = m.buckets === undefined ? '' : ` Buckets: ${m.buckets.join(', ')}.`;
    return `| \`${m.name}\` | ${m.kind} | ${labels} | ${m.help}${buckets} Source: ${m.source}. |`;
  });
  return [TABLE_START, '| metric | type | labels | meaning |', '|---|---|---|---|', ...rows, TABLE_END].join('\n');
}

export function replaceMetricsTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no metrics-table markers');
  return readme.slice(0, start) + renderMetricsTable() + readme.slice(end + TABLE_END.length);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync('README.md', replaceMetricsTable(readFileSync('README.md', 'utf8')));
  console.log('README.md metrics table regenerated from the catalog');
}

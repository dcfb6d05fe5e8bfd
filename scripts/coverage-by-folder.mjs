// Prints jest's coverage (coverage/coverage-summary.json, v8 provider) as line and branch figures per
// source folder. A figure, not a gate. Code that runs only in child processes (the built dist/ driven
// by the end-to-end tests) is not counted, so the figures understate what the suite exercises.
import { readFileSync } from 'node:fs';
import { relative, dirname } from 'node:path';

const summary = JSON.parse(readFileSync('coverage/coverage-summary.json', 'utf8'));
const folders = new Map();
const add = (key, f) => {
  const acc = folders.get(key) ?? { lines: [0, 0], branches: [0, 0] };
  acc.lines[0] += f.lines.covered;
  acc.lines[1] += f.lines.total;
  acc.branches[0] += f.branches.covered;
  acc.branches[1] += f.branches.total;
  folders.set(key, acc);
};
for (const [file, f] of Object.entries(summary)) {
  if (file === 'total') continue;
  add(dirname(relative(process.cwd(), file)), f);
}
const pct = ([c, t]) => (t === 0 ? '   -  ' : `${((100 * c) / t).toFixed(1).padStart(5)}%`);
const rows = [...folders].sort(([a], [b]) => a.localeCompare(b));
console.log('folder              lines    branches');
for (const [name, acc] of rows) console.log(`${name.padEnd(18)} ${pct(acc.lines)}   ${pct(acc.branches)}`);
const t = summary.total;
console.log(
  `${'all'.padEnd(18)} ${pct([t.lines.covered, t.lines.total])}   ${pct([t.branches.covered, t.branches.total])}`,
);

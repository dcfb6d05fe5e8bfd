// `npm run dashboards`: (re)writes dashboards/*.json from the generator and removes stale files, so
// the committed dashboards are always exactly what the code produces.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS_DIR, buildDashboards, renderDashboard } from './index.js';

const built = buildDashboards();
mkdirSync(DASHBOARDS_DIR, { recursive: true });
const wanted = new Set(built.map((d) => d.file));
for (const name of readdirSync(DASHBOARDS_DIR)) {
  if (name.endsWith('.json') && !wanted.has(name)) rmSync(join(DASHBOARDS_DIR, name));
}
for (const d of built) {
  writeFileSync(join(DASHBOARDS_DIR, d.file), renderDashboard(d));
  console.log(`${join(DASHBOARDS_DIR, d.file)}: ${d.queries.length} queries`);
}

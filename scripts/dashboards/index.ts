// The four Grafana dashboards, generated from code so every metric name comes from the catalog.
// `npm run dashboards` writes them to dashboards/; test/ops/dashboards.test.ts keeps the committed
// files equal to what this produces.
import { callQualityDashboard } from './call-quality.js';
import { callsDashboard } from './calls.js';
import { conferencesDashboard } from './conferences.js';
import type { BuiltDashboard } from './dashboard.js';
import { exporterHealthDashboard } from './exporter-health.js';

export { renderDashboard, type BuiltDashboard, type DashboardQuery } from './dashboard.js';

/** Output directory, relative to the repository root. */
export const DASHBOARDS_DIR = 'dashboards';

export function buildDashboards(): BuiltDashboard[] {
  return [callQualityDashboard(), callsDashboard(), conferencesDashboard(), exporterHealthDashboard()];
}

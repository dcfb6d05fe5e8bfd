// The alert rules pass `promtool check rules` and their own `promtool test rules` unit tests (each
// alert shown firing and not firing), name only catalog series, carry for/severity/summary/
// description/runbook_url, and every runbook link lands on a README heading.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { INSTALL_HINT, promtoolAvailable } from '../support/prometheus.js';
import { RULES_FILE, exprProblems, loadAlertRules } from '../support/ops-queries.js';

const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';
const TESTS_DIR = 'alerts/tests';
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.test.yml'))
  .sort()
  .map((f) => join(TESTS_DIR, f));
const rules = loadAlertRules();

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  assert.ok(promtoolAvailable(), INSTALL_HINT);
  try {
    const { stdout, stderr } = await promisify(execFile)(PROMTOOL, args, { timeout: 60_000 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? String(err)}` };
  }
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

test('promtool check rules accepts the rule file', async () => {
  const r = await promtool('check', 'rules', RULES_FILE);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool test rules passes every unit test file', async () => {
  assert.ok(testFiles.length > 0, 'unit test files exist');
  const r = await promtool('test', 'rules', ...testFiles);
  assert.equal(r.code, 0, r.output);
  assert.equal(r.output.match(/SUCCESS/g)?.length, testFiles.length, r.output);
});

test('every alert is unit-tested both firing and not firing', () => {
  const cases = new Map<string, { firing: number; quiet: number }>();
  for (const file of testFiles) {
    const doc = parse(readFileSync(file, 'utf8')) as {
      rule_files?: string[];
      tests?: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    assert.deepEqual(doc.rule_files, ['../voice-insights.rules.yml'], `${file} tests the shipped rule file`);
    for (const t of doc.tests ?? []) {
      for (const a of t.alert_rule_test ?? []) {
        const c = cases.get(a.alertname) ?? { firing: 0, quiet: 0 };
        if ((a.exp_alerts ?? []).length > 0) c.firing++;
        else c.quiet++;
        cases.set(a.alertname, c);
      }
    }
  }
  for (const r of rules) {
    const c = cases.get(r.alert);
    assert.ok(
      c !== undefined && c.firing > 0 && c.quiet > 0,
      `${r.alert}: firing and not-firing cases (${JSON.stringify(c)})`,
    );
  }
  for (const name of cases.keys())
    assert.ok(
      rules.some((r) => r.alert === name),
      `tests name an existing alert: ${name}`,
    );
});

test('the rules cover the quality SLOs and exporter health of DESIGN section 7, and conferences', () => {
  const text = rules.map((r) => r.expr).join('\n');
  for (const needle of [
    'twilio_voice_interval_packet_loss_ratio_bucket{le="0.05"}',
    'twilio_voice_interval_jitter_seconds_bucket{edge!~"carrier_edge|sip_edge|client_edge",le="0.03"}',
    'twilio_voice_interval_jitter_seconds_bucket{edge=~"carrier_edge|sip_edge|client_edge",le="0.03"}',
    'twilio_voice_interval_mos_bucket{le="3.5"}',
    'twilio_voice_interval_rtt_seconds_bucket{le="0.4"}',
    'twilio_voice_call_post_dial_delay_seconds_bucket',
    'twilio_voice_calls_total{call_state="fail"}',
    // Conferences (issue 14): start_failure and the quality tags, as shares of all conferences.
    'twilio_voice_conference_tags_total{tag="start_failure"}',
    'twilio_voice_conference_tags_total{tag=~"quality_warnings|high_jitter|high_packet_loss|low_mos"}',
    'twilio_voice_conferences_total',
    'voice_insights_exporter_signature_failures_total',
    'voice_insights_exporter_webhook_requests_total{code=~"5.."}',
    'voice_insights_exporter_event_lag_seconds_bucket',
    'voice_insights_exporter_export_failures_total',
    'voice_insights_exporter_dead_letters_total',
    'voice_insights_exporter_ready == 0',
    'voice_insights_exporter_label_overflow_total',
  ]) {
    assert.ok(text.includes(needle), needle);
  }
});

for (const r of rules) {
  test(`${r.alert}: catalog series only, for, severity, templated annotations, runbook`, () => {
    assert.deepEqual(exprProblems(r.expr), [], r.expr);
    assert.match(r.for ?? '', /^\d+[smh]$/, 'for:');
    assert.ok(['critical', 'warning', 'info'].includes(r.labels['severity'] ?? ''), `severity ${r.labels['severity']}`);
    assert.ok((r.annotations['summary'] ?? '').length > 0, 'summary');
    assert.match(
      r.annotations['description'] ?? '',
      /\{\{[^}]*\$(value|labels)[^}]*\}\}/,
      'description templated with $value/$labels',
    );
    assert.match(
      r.annotations['runbook_url'] ?? '',
      /^README\.md#[a-z0-9-]+$/,
      'runbook_url points at a README anchor',
    );
  });
}

test('every runbook_url anchor is a README heading', () => {
  const readme = readFileSync('README.md', 'utf8');
  const anchors = new Set([...readme.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => githubSlug(m[1] ?? '')));
  for (const r of rules) {
    const anchor = (r.annotations['runbook_url'] ?? '').split('#')[1] ?? '';
    assert.ok(anchors.has(anchor), `README has a heading for #${anchor} (${r.alert})`);
  }
});

test("the README's Prometheus scrape config is valid and loads the rule file", async () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Prometheus scrape config'));
  const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(snippet !== undefined, 'a yaml block in the section');
  assert.match(snippet, /job_name: voice-insights-exporter/);
  // promtool resolves rule_files against the config's directory; the snippet's path is repo-relative.
  const dir = mkdtempSync(join(tmpdir(), 'vie-scrape-'));
  try {
    const file = join(dir, 'prometheus.yml');
    writeFileSync(file, snippet.replace(RULES_FILE, resolve(RULES_FILE)));
    const r = await promtool('check', 'config', file);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

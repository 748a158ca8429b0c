import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { exportedSeriesNames, parseExposition } from '../utils/prometheus-text';
import { parsePromql } from '../utils/promql-metrics';
import { bootTestApp, TestApp } from '../support/app';

/**
 * deploy/grafana and deploy/prometheus stay true to /metrics: every metric a dashboard panel or an alert rule
 * names must be one the booted service exports (its # TYPE families, with their histogram series).
 */
const ROOT = join(__dirname, '../..');

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'deploy/grafana/dashboards/connect-service.json'), 'utf8'),
) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string; type: string }> } };
const rulesFile = 'deploy/prometheus/connect-service.rules.yml';
const rules = parse(readFileSync(join(ROOT, rulesFile), 'utf8')) as {
  groups: Array<{ name: string; rules: Rule[] }>;
};

function flatPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...flatPanels(p.panels ?? [])]);
}

const panelExprs = flatPanels(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
);
const ruleExprs = rules.groups.flatMap((g) =>
  g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
);

/** Series Prometheus makes itself for every target (https://prometheus.io/docs/concepts/jobs_instances/). */
const PROMETHEUS_OWN = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** The runbook sections (their GitHub anchors) of docs/operations.md. */
const runbookAnchors = new Set(
  readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')
    .split('\n')
    .filter((l) => /^#{2,3} /.test(l))
    .map((l) =>
      l
        .replace(/^#+ /, '')
        .trim()
        .toLowerCase()
        .replace(/[^\w\s-]/g, '')
        .replace(/\s/g, '-'),
    ),
);

describe('dashboard and alert rules name only metrics /metrics exports', () => {
  let t: TestApp;
  let exported: Set<string>;
  /** Series with at least one sample: a labelled counter never incremented has a # TYPE line but no sample. */
  let sampled: Set<string>;

  beforeAll(async () => {
    t = await bootTestApp();
    // The first scrape of a fresh replica: what Prometheus sees before anything has happened.
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const exposition = parseExposition(res.body);
    exported = new Set([...exportedSeriesNames(exposition), ...PROMETHEUS_OWN]);
    sampled = new Set([...exposition.samples.map((x) => x.name), ...PROMETHEUS_OWN]);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('reads metric names out of PromQL (suffixes, matchers, functions, by-lists, subqueries, variables)', () => {
    expect(
      parsePromql(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!~"/metrics|x_total"}[$__rate_interval])))',
      ),
    ).toEqual({ metrics: ['http_request_duration_seconds_bucket'], errors: [] });
    expect(
      parsePromql(
        'max(sum by (instance) (a_gauge)) > 100 and deriv(max(b_gauge offset 5m)[15m:1m]) > 0 unless on (job) c_total / ignoring(x) group_left(y) d_count',
      ).metrics.sort(),
    ).toEqual(['a_gauge', 'b_gauge', 'c_total', 'd_count']);
    expect(parsePromql('{__name__="named_metric", job="x"} == bool 2').metrics).toEqual(['named_metric']);
    expect(parsePromql('sum(rate(foo_total[5m])').errors).not.toEqual([]);
  });

  it('has the panels and rules the operators need, each with an expression', () => {
    expect(dashboard.uid).toBe('connect-service');
    expect(dashboard.templating.list.find((v) => v.type === 'datasource')).toBeDefined();
    expect(panelExprs.length).toBeGreaterThan(20);
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts).toEqual(
      expect.arrayContaining([
        'ConnectWebhookBacklogGrowing',
        'ConnectWebhookDeadLetters',
        'ConnectStripeCircuitOpen',
        'ConnectHttp5xxRate',
        'ConnectEventDeliveryFailures',
        'ConnectReadinessFlapping',
      ]),
    );
    for (const g of rules.groups) {
      for (const r of g.rules) {
        expect([r.alert, typeof r.expr, r.labels?.severity, typeof r.annotations?.summary]).toEqual([
          r.alert,
          'string',
          expect.stringMatching(/^(critical|warning|info)$/),
          'string',
        ]);
        if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smh]$/);
        // Every alert links its runbook, a section that exists in docs/operations.md.
        const anchor = /docs\/operations\.md#([\w-]+)$/.exec(r.annotations?.runbook_url ?? '')?.[1];
        expect([r.alert, anchor && runbookAnchors.has(anchor)]).toEqual([r.alert, true]);
      }
    }
    // A replica that is down, or that discovery no longer finds, alerts.
    expect(alerts).toEqual(expect.arrayContaining(['ConnectTargetDown', 'ConnectTargetAbsent']));
  });

  it.each([...panelExprs, ...ruleExprs].map((e) => [e.where, e.expr]))(
    '%s parses and names only exported metrics',
    (_where, expr) => {
      const { metrics, errors } = parsePromql(expr);
      expect(errors).toEqual([]);
      // A parser that finds nothing would pass every expression: each one selects at least one metric.
      expect(metrics.length).toBeGreaterThan(0);
      expect(metrics.filter((n) => !exported.has(n))).toEqual([]);
      // And with a sample from the first scrape: a series with none is invisible to Prometheus (rate() and
      // increase() stay empty, the alert never fires) until its first increment.
      expect(metrics.filter((n) => !sampled.has(n))).toEqual([]);
    },
  );

  it('passes promtool when it is installed (optional; the checks above do not depend on it)', () => {
    const which = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (which.error) return; // not installed here: nothing more to check
    const check = spawnSync('promtool', ['check', 'rules', join(ROOT, rulesFile)], { encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toContain('SUCCESS');
  });
});

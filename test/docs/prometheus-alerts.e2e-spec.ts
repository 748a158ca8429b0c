import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../faults/support/harness';
import { eventually } from '../utils/eventually';
import { bootTestApp, TestApp } from '../support/app';

/**
 * The shipped alert rules in a real Prometheus (Debian's `prometheus` package: the server and promtool), scraping a
 * booted service: the rules load, an absent target and a down target each fire their alert, and the series the
 * rules need exist from the first scrape. Each `for:` is shortened to 1 s in the test's copy so the alerts fire in
 * seconds; the expressions are the shipped ones.
 */
const ROOT = join(__dirname, '../..');
const RULES = join(ROOT, 'deploy/prometheus/connect-service.rules.yml');

const missing = ['prometheus', 'promtool'].filter((b) => spawnSync(b, ['--version']).error !== undefined);
const reason = `${missing.join(' and ')} not installed (apt-get install -y prometheus)`;
if (missing.length) process.stdout.write(`[skipped] real Prometheus alert rules: ${reason}\n`);
const describeWithPrometheus = missing.length ? describe.skip : describe;

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

describeWithPrometheus(
  `alert rules in a real Prometheus${missing.length ? ` (skipped: ${reason})` : ''}`,
  () => {
    let dir: string;
    let prometheus: ChildProcess | undefined;
    let promUrl: string;
    let t: TestApp;

    const config = (targets: string[]): string =>
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s }',
        'rule_files: [rules.yml]',
        'scrape_configs:',
        '  - job_name: prometheus',
        `    static_configs: [{ targets: ['${new URL(promUrl).host}'] }]`,
        ...(targets.length
          ? [
              '  - job_name: connect-service',
              `    static_configs: [{ targets: [${targets.map((x) => `'${x}'`).join(', ')}] }]`,
            ]
          : []),
      ].join('\n');

    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${promUrl}${path}`);
      return ((await res.json()) as { data: T }).data;
    };
    const firing = async (name: string): Promise<Alert[]> =>
      (await get<{ alerts: Alert[] }>('/api/v1/alerts')).alerts.filter(
        (a) => a.labels.alertname === name && a.state === 'firing',
      );

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'connect-prometheus-'));
      writeFileSync(
        join(dir, 'rules.yml'),
        readFileSync(RULES, 'utf8').replace(/^(\s+)for: \d+[smh]$/gm, '$1for: 1s'),
      );
      const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toContain('SUCCESS');
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      writeFileSync(join(dir, 'prometheus.yml'), config([]));
      prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-lifecycle',
        ],
        { stdio: 'ignore' },
      );
      await eventually(
        'Prometheus to be ready',
        async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.ok,
      );
      t = await bootTestApp({}, undefined, { listen: true });
    }, 60_000);

    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        await new Promise<void>((resolve) => {
          prometheus!.once('exit', () => resolve());
          prometheus!.kill('SIGTERM');
        });
      }
      await t?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('loads every shipped rule', async () => {
      const groups = await get<{ groups: { rules: { name: string }[] }[] }>('/api/v1/rules');
      const names = groups.groups.flatMap((g) => g.rules.map((r) => r.name));
      expect(names).toEqual(
        expect.arrayContaining(['ConnectTargetDown', 'ConnectTargetAbsent', 'ConnectHttp5xxRate']),
      );
    });

    it('fires ConnectTargetAbsent while no replica is discovered', async () => {
      await eventually(
        'ConnectTargetAbsent to fire',
        async () => (await firing('ConnectTargetAbsent')).length > 0,
        {
          timeoutMs: 30_000,
        },
      );
    }, 40_000);

    it('fires ConnectTargetDown for a replica that does not answer, and scrapes a live one from its first scrape', async () => {
      const live = new URL(t.baseUrl!).host;
      const dead = `127.0.0.1:${await freePort()}`;
      writeFileSync(join(dir, 'prometheus.yml'), config([live, dead]));
      expect((await fetch(`${promUrl}/-/reload`, { method: 'POST' })).ok).toBe(true);

      const down = await eventually(
        'ConnectTargetDown to fire',
        async () => {
          const alerts = await firing('ConnectTargetDown');
          return alerts.length ? alerts : null;
        },
        { timeoutMs: 30_000 },
      );
      expect(down.map((a) => a.labels.instance)).toEqual([dead]);
      await eventually(
        'ConnectTargetAbsent to resolve',
        async () => (await firing('ConnectTargetAbsent')).length === 0,
        {
          timeoutMs: 30_000,
        },
      );

      // Counters a rule divides by exist before anything happened (initialised at 0), so rate() has data.
      for (const series of [
        'connect_event_delivery_attempts_total',
        'stripe_requests_total',
        'http_request_duration_seconds_count',
      ]) {
        const result = await get<{ result: unknown[] }>(
          `/api/v1/query?query=${encodeURIComponent(`${series}{instance="${live}"}`)}`,
        );
        expect([series, result.result.length > 0]).toEqual([series, true]);
      }
    }, 70_000);
  },
);

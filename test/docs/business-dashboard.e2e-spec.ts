import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';

/**
 * deploy/grafana/dashboards/connect-business.json: the business view over the analytics rollups through Grafana's
 * PostgreSQL datasource. Its shape is checked like the operations dashboard's, and every query (panels and
 * variables) runs against the migrated schema with rows in it, Grafana's macros expanded as Grafana does.
 */
const ROOT = join(__dirname, '../..');

interface Target {
  rawSql: string;
  format: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  title: string;
  type: string;
  datasource: { type: string; uid: string };
  targets: Target[];
  fieldConfig: { defaults: { unit?: string } };
}
interface Variable {
  name: string;
  type: string;
  query: string;
  multi?: boolean;
  includeAll?: boolean;
}

const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'deploy/grafana/dashboards/connect-business.json'), 'utf8'),
) as { uid: string; panels: Panel[]; templating: { list: Variable[] } };

const FROM = new Date(Date.now() - 7 * 86_400_000).toISOString();
const TO = new Date(Date.now() + 3_600_000).toISOString();

/** Grafana's SQL macros and multi-value variables, as Grafana expands them before sending the query. */
function expand(sql: string, vars: Record<string, string[]>): string {
  return sql
    .replace(/\$__timeFilter\((\w+)\)/g, `$1 BETWEEN '${FROM}' AND '${TO}'`)
    .replace(/\$__timeGroupAlias\((\w+), *\$__interval\)/g, `date_trunc('hour', $1) AS time`)
    .replace(/\$(\w+)/g, (m, name: string) =>
      vars[name] ? vars[name].map((v) => `'${v.replace(/'/g, "''")}'`).join(',') : m,
    );
}

describe('business dashboard (PostgreSQL datasource over the analytics rollups)', () => {
  let t: TestApp;
  let db: Client;
  const tenantA = uniqueTenant('biz');
  const tenantB = uniqueTenant('biz');
  const vars = () => ({ tenant: [tenantA, tenantB], currency: ['usd', 'jpy'] });

  beforeAll(async () => {
    t = await bootTestApp(); // migrates the run's database
    db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString();
    const row = (table: string, tenant: string, currency: string, v: number[]) =>
      db.query(
        `INSERT INTO ${table} (bucket_start, tenant_id, stripe_account_id, currency, charge_type, type, routing_rule,
           payments_attempted, payments_succeeded, payments_declined, gross_volume, fees_collected, fees_refunded,
           refunds_count, refunds_amount, disputes_count, disputes_amount, transfer_volume)
         VALUES ($1, $2, 'acct_biz', $3, 'destination', 'payment', 'default', ${v.map((_, i) => `$${i + 4}`).join(', ')})`,
        [hour, tenant, currency, ...v],
      );
    // attempted, succeeded, declined, volume, fees, fees refunded, refunds, refunded, disputes, disputed, transfers
    await row(
      'analytics_rollups_hourly',
      tenantA,
      'usd',
      [10, 8, 2, 12_345, 400, 25, 1, 1_000, 1, 2_000, 11_000],
    );
    await row('analytics_rollups_hourly', tenantB, 'jpy', [4, 4, 0, 5_000, 150, 0, 0, 0, 0, 0, 4_850]);
    await row(
      'analytics_rollups_daily',
      tenantA,
      'usd',
      [10, 8, 2, 12_345, 400, 25, 1, 1_000, 1, 2_000, 11_000],
    );
    await row('analytics_rollups_daily', tenantB, 'jpy', [4, 4, 0, 5_000, 150, 0, 0, 0, 0, 0, 4_850]);
    // Not folded into the hourly rollup yet: the dashboard adds it, as the analytics API does.
    await row('analytics_rollup_deltas', tenantA, 'usd', [1, 1, 0, 655, 20, 0, 0, 0, 0, 0, 635]);
  });

  afterAll(async () => {
    await db?.query(`DELETE FROM analytics_rollups_hourly WHERE tenant_id IN ($1, $2)`, [tenantA, tenantB]);
    await db?.query(`DELETE FROM analytics_rollups_daily WHERE tenant_id IN ($1, $2)`, [tenantA, tenantB]);
    await db?.query(`DELETE FROM analytics_rollup_deltas WHERE tenant_id IN ($1, $2)`, [tenantA, tenantB]);
    await db?.end();
    await t?.close();
  });

  it('has tenant and currency variables and the panels the business asks for, all on the PostgreSQL datasource', () => {
    expect(dashboard.uid).toBe('connect-business');
    const byName = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(byName.datasource).toMatchObject({ type: 'datasource', query: 'grafana-postgresql-datasource' });
    for (const name of ['tenant', 'currency'])
      expect(byName[name]).toMatchObject({ type: 'query', multi: true, includeAll: true });
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const word of [
      'volume',
      'fees',
      'refund',
      'disputes',
      'dispute rate',
      'decline rate',
      'payouts',
      'per tenant',
    ]) {
      expect([word, titles.includes(word)]).toEqual([word, true]);
    }
    for (const p of dashboard.panels) {
      expect([p.title, p.datasource.type, p.targets.length]).toEqual([
        p.title,
        'grafana-postgresql-datasource',
        1,
      ]);
      // Filtered by both variables, so the view is per tenant and per currency.
      expect([
        p.title,
        /IN \(\$tenant\)/.test(p.targets[0].rawSql),
        /IN \(\$currency\)/.test(p.targets[0].rawSql),
      ]).toEqual([p.title, true, true]);
    }
  });

  it('runs every variable query against the schema', async () => {
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const { rows } = await db.query<Record<string, string>>(expand(v.query, vars()));
      const values = rows.map((r) => Object.values(r)[0]);
      expect(values).toEqual(
        expect.arrayContaining(v.name === 'tenant' ? [tenantA, tenantB] : ['usd', 'jpy']),
      );
    }
  });

  it.each(dashboard.panels.map((p) => [p.title, p] as const))(
    'panel "%s" runs and answers rows',
    async (_title, p) => {
      const { rows } = await db.query<Record<string, unknown>>(expand(p.targets[0].rawSql, vars()));
      expect(rows.length).toBeGreaterThan(0);
      if (p.targets[0].format === 'time_series') {
        for (const r of rows) expect(Object.keys(r).sort()).toEqual(['metric', 'time', 'value']);
      }
    },
  );

  it('answers amounts in major units per currency, with the unfolded deltas, and rates in percent', async () => {
    const table = dashboard.panels.find((p) => p.targets[0].format === 'table')!;
    const { rows } = await db.query<Record<string, string>>(expand(table.targets[0].rawSql, vars()));
    const a = rows.find((r) => r.Tenant === tenantA)!;
    const b = rows.find((r) => r.Tenant === tenantB)!;
    expect(a).toMatchObject({ Currency: 'USD', Payments: '9' });
    expect(Number(a.Volume)).toBe(130); // 12 345 + 655 cents
    expect(Number(a.Fees)).toBe(3.95); // 400 + 20 − 25 cents
    expect(Number(a.Refunds)).toBe(10);
    expect(Number(a['Dispute rate %'])).toBeCloseTo((100 * 1) / 9, 6);
    expect(Number(a['Decline rate %'])).toBeCloseTo((100 * 2) / 11, 6);
    expect(Number(b.Volume)).toBe(5_000); // yen: no minor unit
    expect(Number(b.Transfers)).toBe(4_850);
    const one = await db.query<Record<string, string>>(
      expand(table.targets[0].rawSql, { tenant: [tenantB], currency: ['jpy'] }),
    );
    expect(one.rows.map((r) => r.Tenant)).toEqual([tenantB]);
  });
});

import { DataSource } from 'typeorm';
import { dataSourceOptions, MIGRATIONS, revertLastMigrationLocked, runMigrationsLocked } from '@app/database';
import {
  LOCAL_TABLES,
  OWN_KEY_TABLES,
  REFERENCE_TABLES,
  TENANT_TABLES,
} from '../../libs/database/src/migrations/1764380000001-citus-distribution';
import { CitusCluster, citusSuite } from './support/citus-cluster';
import {
  FAN_OUT_STATEMENTS,
  HOT_STATEMENTS,
  seedSingleNode,
  tableCounts,
  taskCount,
} from './support/citus-schema';

const { install, describeCitus } = citusSuite();

const DB = 'connect_citus_schema';
const BEFORE_SHARDING = MIGRATIONS.findIndex((m) => m.name === 'ShardingKeys1764380000000');

describeCitus('the migrations on a Citus cluster', () => {
  let cluster: CitusCluster;
  let url: string;
  let ds: DataSource;
  let before: Record<string, number>;

  beforeAll(async () => {
    if ('missing' in install) return;
    cluster = await CitusCluster.start(install, 2);
    url = await cluster.createDatabase(DB);
    // A single-node database as it was before sharding: the schema up to the last migration before it, with data.
    const old = await new DataSource({
      ...dataSourceOptions(url, 2),
      migrations: MIGRATIONS.slice(0, BEFORE_SHARDING),
    }).initialize();
    await runMigrationsLocked(old);
    await seedSingleNode(old);
    before = await tableCounts(old);
    await old.destroy();
    ds = await new DataSource(dataSourceOptions(url, 2)).initialize();
  }, 180_000);

  afterAll(async () => {
    await ds?.destroy();
    cluster?.stop();
  });

  it('migrates the existing data forward and distributes every table as designed', async () => {
    expect(await runMigrationsLocked(ds)).toEqual(MIGRATIONS.slice(BEFORE_SHARDING).map((m) => m.name));
    expect(await tableCounts(ds)).toEqual(before);
    const rows = (await ds.query(
      `SELECT table_name::text AS name, citus_table_type AS type, distribution_column AS col, colocation_id
         FROM citus_tables ORDER BY 1`,
    )) as Array<{ name: string; type: string; col: string; colocation_id: number }>;
    const byName = new Map(rows.map((r) => [r.name, r]));
    process.stdout.write(
      `[citus] ${rows.map((r) => `${r.name}: ${r.type} ${r.col} (group ${r.colocation_id})`).join('\n        ')}\n`,
    );
    const group = byName.get(TENANT_TABLES[0])?.colocation_id;
    for (const t of TENANT_TABLES) {
      const r = byName.get(t);
      expect({ t, type: r?.type, col: r?.col, group: r?.colocation_id }).toEqual({
        t,
        type: 'distributed',
        col: 'tenant_id',
        group,
      });
    }
    for (const [t, col] of OWN_KEY_TABLES) {
      expect({ t, type: byName.get(t)?.type, col: byName.get(t)?.col }).toEqual({
        t,
        type: 'distributed',
        col,
      });
      expect(byName.get(t)?.colocation_id).not.toBe(group);
    }
    for (const t of REFERENCE_TABLES)
      expect({ t, type: byName.get(t)?.type }).toEqual({ t, type: 'reference' });
    for (const t of [...LOCAL_TABLES, 'migrations'])
      expect({ t, citus: byName.has(t) }).toEqual({ t, citus: false });
    const boss = (await ds.query(
      `SELECT count(*)::int AS n FROM citus_tables WHERE table_name::text LIKE 'pgboss.%'`,
    )) as Array<{ n: number }>;
    expect(boss[0].n).toBe(0);
    // The tenant filled in where it was missing, from the row each belongs to.
    const filled = (await ds.query(
      `SELECT (SELECT count(*)::int FROM event_delivery_attempts a WHERE a.tenant_id NOT LIKE 'tenant_%') AS attempts,
              (SELECT count(*)::int FROM idempotency_records WHERE scope <> 'sub_1|' || tenant_id) AS claims`,
    )) as Array<{ attempts: number; claims: number }>;
    expect(filled[0]).toEqual({ attempts: 0, claims: 0 });
  });

  it('runs each hot statement of a known tenant as one task on one worker', async () => {
    const plans: string[] = [];
    for (const [name, statement] of Object.entries(HOT_STATEMENTS)) {
      const tasks = await taskCount(ds, statement);
      plans.push(`${name}: ${tasks} task`);
      expect({ name, tasks }).toEqual({ name, tasks: 1 });
    }
    process.stdout.write(`[citus] ${plans.join(', ')}\n`);
  });

  it('accepts the statements that ask every shard by design', async () => {
    const plans: string[] = [];
    for (const [name, statement] of Object.entries(FAN_OUT_STATEMENTS)) {
      const tasks = await taskCount(ds, statement);
      plans.push(`${name}: ${tasks} tasks`);
      expect({ name, spread: tasks > 1 }).toEqual({ name, spread: true });
    }
    process.stdout.write(`[citus] ${plans.join(', ')}\n`);
  });

  it('keeps the analytics rollups exact through the shard triggers', async () => {
    await ds.query(
      `INSERT INTO payment_routes (tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency, stripe_idempotency_key)
       VALUES ('tenant_1', 'acct_1', 'payment', 'pending', 'direct', 5000, 100, 'usd', 'k-after-1')`,
    );
    await ds.query(
      `UPDATE payment_routes SET status = 'completed' WHERE tenant_id = 'tenant_1' AND stripe_idempotency_key = 'k-after-1'`,
    );
    await ds.query(
      `UPDATE payment_routes SET status = 'failed' WHERE tenant_id = 'tenant_2' AND stripe_idempotency_key = 'k-2-0'`,
    );
    await ds.query(`SELECT analytics_fold(1000000)`);
    const [got] = (await ds.query(`
      SELECT (SELECT COALESCE(sum(gross_volume), 0)::bigint FROM analytics_rollups_daily) AS tenant_gross,
             (SELECT COALESCE(sum(gross_volume), 0)::bigint FROM analytics_platform_rollups_hourly) AS platform_gross,
             (SELECT COALESCE(sum(payments_failed), 0)::bigint FROM analytics_rollups_hourly) AS failed,
             (SELECT count(*)::int FROM analytics_rollup_deltas) AS pending_deltas`)) as Array<
      Record<string, string | number>
    >;
    const [want] = (await ds.query(`
      SELECT COALESCE(sum(amount) FILTER (WHERE status = 'completed'), 0)::bigint AS gross,
             count(*) FILTER (WHERE status = 'failed')::bigint AS failed
        FROM payment_routes WHERE type = 'payment'`)) as Array<{ gross: string; failed: string }>;
    expect(got).toEqual({
      tenant_gross: want.gross,
      platform_gross: want.gross,
      failed: want.failed,
      pending_deltas: 0,
    });
  });

  it('goes back to single-node tables with every row (down), and forward again', async () => {
    const counts = await tableCounts(ds);
    const since = MIGRATIONS.slice(BEFORE_SHARDING).map((m) => m.name);
    // Migrations written after the distribution run on the sharded tables: they come off first.
    for (const later of since.slice(since.indexOf('CitusDistribution1764380000001') + 1).reverse())
      expect(await revertLastMigrationLocked(ds)).toBe(later);
    expect(await revertLastMigrationLocked(ds)).toBe('CitusDistribution1764380000001');
    const left = (await ds.query(`SELECT count(*)::int AS n FROM citus_tables`)) as Array<{ n: number }>;
    expect(left[0].n).toBe(0);
    expect(await tableCounts(ds)).toEqual(counts);
    expect(await revertLastMigrationLocked(ds)).toBe('ShardingKeys1764380000000');
    expect(await tableCounts(ds)).toEqual(counts);
    expect(await runMigrationsLocked(ds)).toEqual(since);
    expect(await tableCounts(ds)).toEqual(counts);
  });
});

import { CitusCluster, citusSuite } from './support/citus-cluster';

const { install, describeCitus } = citusSuite();

describeCitus('a private Citus cluster', () => {
  let cluster: CitusCluster;
  let url: string;

  beforeAll(async () => {
    if ('missing' in install) return;
    cluster = await CitusCluster.start(install, 2);
    url = await cluster.createDatabase('connect_citus_smoke');
  }, 120_000);

  afterAll(() => cluster?.stop());

  it('has a coordinator and two active workers', async () => {
    const nodes = await cluster.coordinator.query<{ node_name: string; node_port: number }>(
      'SELECT node_name, node_port FROM citus_get_active_worker_nodes() ORDER BY node_port',
      [],
      'connect_citus_smoke',
    );
    expect(nodes.map((n) => Number(n.node_port)).sort()).toEqual(cluster.workers.map((w) => w.port).sort());
    expect(url).toContain('connect_citus_smoke');
  });

  it('distributes a table by tenant and routes a tenant statement to one shard', async () => {
    const db = 'connect_citus_smoke';
    await cluster.coordinator.query(
      'CREATE TABLE t (tenant_id text NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), amount bigint, PRIMARY KEY (tenant_id, id))',
      [],
      db,
    );
    await cluster.coordinator.query(`SELECT create_distributed_table('t', 'tenant_id')`, [], db);
    await cluster.coordinator.query(
      `INSERT INTO t (tenant_id, amount) SELECT 'tenant_' || g % 10, g FROM generate_series(1, 100) g`,
      [],
      db,
    );
    const plan = await cluster.coordinator.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT sum(amount) FROM t WHERE tenant_id = 'tenant_3'`,
      [],
      db,
    );
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Task Count: 1\b/);
    const [{ total }] = await cluster.coordinator.query<{ total: string }>(
      'SELECT sum(amount)::text AS total FROM t',
      [],
      db,
    );
    expect(total).toBe(String((100 * 101) / 2));
  });
});

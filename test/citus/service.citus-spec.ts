import { DataSource } from 'typeorm';
import { TestApp } from '../support/app';
import { CitusCluster, citusSuite } from './support/citus-cluster';
import { bootOnCluster, createTestDatabase, TenantFlows } from './support/citus-app';

const { install, describeCitus } = citusSuite();

describeCitus('the service on a Citus cluster', () => {
  let cluster: CitusCluster;
  let t: TestApp;
  let flows: TenantFlows;
  let ds: DataSource;

  beforeAll(async () => {
    if ('missing' in install) return;
    cluster = await CitusCluster.start(install, 2);
    const url = await createTestDatabase(cluster, 'connect_citus_service');
    t = await bootOnCluster(url);
    flows = new TenantFlows(t);
    ds = t.app.get(DataSource);
  }, 240_000);

  afterAll(async () => {
    await t?.close();
    cluster?.stop();
  });

  it('booted on a sharded schema', async () => {
    const [{ n }] = (await ds.query(
      `SELECT count(*)::int AS n FROM citus_tables WHERE citus_table_type = 'distributed'`,
    )) as Array<{ n: number }>;
    expect(n).toBeGreaterThanOrEqual(10);
  });

  it.each([['direct'], ['destination']] as const)(
    'accepts a %s payment (route, idempotency claim and audit in one statement); its key answers it again',
    async (chargeType) => {
      const { tenant } = await flows.connect();
      const res = await flows.pay(tenant, 10_000, chargeType, `k-${tenant}`);
      expect({ status: res.status, body: res.body }).toMatchObject({
        status: 201,
        body: { tenant_id: tenant, charge_type: chargeType },
      });
      const again = await flows.pay(tenant, 10_000, chargeType, `k-${tenant}`);
      expect({ status: again.status, id: again.body.id }).toEqual({ status: 201, id: res.body.id });
      const rows = (await ds.query(
        `SELECT (SELECT count(*)::int FROM payment_routes WHERE tenant_id = $1) AS routes,
                (SELECT count(*)::int FROM idempotency_records WHERE tenant_id = $1) AS claims`,
        [tenant],
      )) as Array<{ routes: number; claims: number }>;
      expect(rows[0]).toEqual({ routes: 1, claims: 1 });
    },
  );
});

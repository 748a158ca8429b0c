import { api } from '../../support/http';
import { eventually } from '../../utils/eventually';
import { bootTestApp, TestApp } from '../../support/app';
import { connectTenant, platformToken, postPayment } from '../../support/factory';
import { CitusCluster } from './citus-cluster';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TEST_DB_MARKER } = require('../../setup/test-db-marker') as { TEST_DB_MARKER: string };

/** A Citus database on the cluster, marked as a test database (bootTestApp refuses any other). */
export async function createTestDatabase(cluster: CitusCluster, name: string): Promise<string> {
  const url = await cluster.createDatabase(name);
  await cluster.coordinator.query(`COMMENT ON DATABASE "${name}" IS '${TEST_DB_MARKER}'`);
  return url;
}

/** The full service on the cluster's coordinator, with the in-process emulator delivering its webhooks. */
export async function bootOnCluster(url: string, env: Record<string, string> = {}): Promise<TestApp> {
  // The Citus suites run without the e2e global setup: the cluster's database is this run's test database.
  process.env.DATABASE_URL = url;
  return bootTestApp(
    { DATABASE_URL: url, PAYMENTS_RECONCILE_DELAY_SECONDS: '1', STRIPE_TIMEOUT_MS: '3000', ...env },
    undefined,
    { listen: true, registerWebhooks: true },
  );
}

export interface Route {
  id: string;
  tenant_id: string;
  status: string;
  amount: number;
  fee: number;
  charge_type: string;
  type: string;
  payment_intent: { id: string | null };
}

/** Flows of one tenant against a booted service: an enabled account, payments, refunds, waits. */
export class TenantFlows {
  readonly platform: string;

  constructor(readonly t: TestApp) {
    this.platform = platformToken(t);
  }

  connect(prefix = 'citus'): Promise<{ tenant: string; acct: string }> {
    return connectTenant(this.t, { prefix });
  }

  pay(tenant: string, amount: number, chargeType: 'direct' | 'destination', key: string) {
    return postPayment(this.t, {
      tenant,
      amount,
      charge_type: chargeType,
      idempotencyKey: key,
      token: this.platform,
    });
  }

  refund(id: string, amount?: number) {
    return api(this.t)<Route>('POST', `/connect/payments/${id}/refunds`, {
      token: this.platform,
      body: amount === undefined ? {} : { amount },
    });
  }

  get<T = Route>(path: string) {
    return api(this.t)<T>('GET', path, { token: this.platform });
  }

  until(id: string, status: string, timeoutMs = 30_000): Promise<Route> {
    return eventually(
      `route ${id} to be ${status}`,
      async () => {
        const r = await this.get(`/connect/payments/${id}`);
        return r.body.status === status ? r.body : null;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }
}

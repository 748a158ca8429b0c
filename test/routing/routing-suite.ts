import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { StripeGateway } from '@app/stripe-gateway';
import { ConnectedTenant, connectTenant as connectAccount } from '../support/factory';
import { api } from '../support/http';
import { EmulatorRequest, emulatorRequests } from '../support/emulator';
import { bootTestApp, TestApp } from '../support/app';

export interface Attempt {
  route: Record<string, unknown>;
  outcome: string;
  failure_code: string | null;
  payment_intent: string | null;
}
export interface Route {
  id: string;
  status: string;
  amount: number;
  fee: number;
  charge_type: string;
  stripe_account_id: string;
  payment_intent: { id: string | null; status: string | null };
  routing: { rule_set_id: string | null; version: number | null; rule: string | null };
  attempts: Attempt[];
  transfer_group: string | null;
  code?: string;
  details?: Record<string, unknown>;
}
export interface RuleSet {
  id: string;
  version: number;
  status: string;
  code?: string;
}

/**
 * Routing owns one process-wide thing, the active rule set: this suite runs in a database of its own so the
 * suites running beside it keep today's routing.
 */
export async function ownDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(process.env.DATABASE_URL!);
  const name = `${base.pathname.slice(1)}_routing`;
  const admin = new Client({ connectionString: base.toString() });
  await admin.connect();
  const marker = (
    await admin.query<{ m: string }>(
      `SELECT shobj_description(oid, 'pg_database') AS m FROM pg_database WHERE datname = current_database()`,
    )
  ).rows[0].m;
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.query(`COMMENT ON DATABASE "${name}" IS '${marker.replace(/'/g, "''")}'`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The routing suite's world: its own database, the app with the emulator, and helpers for tenants and rule sets. */
export function routingSuite() {
  let t: TestApp;
  let gateway: StripeGateway;
  let ds: DataSource;
  let db: { url: string; drop: () => Promise<void> };
  const platform = (): string => t.token({ sub: 'platform-backend', roles: ['platform'] });

  beforeAll(async () => {
    db = await ownDatabase();
    t = await bootTestApp(
      {
        DATABASE_URL: db.url,
        PLATFORM_FEE_BASIS_POINTS: '290',
        PLATFORM_FEE_FIXED: 'usd:30',
        PAYMENTS_RECONCILE_DELAY_SECONDS: '1',
        STRIPE_TIMEOUT_MS: '1500',
      },
      undefined,
      { listen: true, registerWebhooks: true },
    );
    gateway = t.app.get(StripeGateway);
    ds = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  async function call<T>(method: string, path: string, body?: unknown, token = platform()) {
    const res = await api(t)<T>(method, path, { token, body });
    return { status: res.status, body: res.body };
  }
  const post = <T = Route>(path: string, body?: unknown, token?: string) =>
    call<T>('POST', path, body ?? {}, token);
  const get = <T = Route>(path: string) => call<T>('GET', path);

  const connectTenant = (labels: Record<string, string> = {}): Promise<ConnectedTenant> =>
    connectAccount(t, {
      prefix: 'rt',
      columns: {
        payouts_enabled: true,
        capabilities: { card_payments: 'active', transfers: 'active' },
        metadata: labels,
      },
    });

  const pay = (tenant: string, amount: number, currency: string, extra: Record<string, unknown> = {}) => ({
    tenant_id: tenant,
    payment_data: { amount, currency, payment_method: 'pm_card_visa', confirm: true, ...extra },
  });

  const requests = (): Promise<EmulatorRequest[]> => emulatorRequests(t.emulatorUrl!);

  async function activate(rules: unknown[], def: unknown = {}): Promise<RuleSet> {
    const created = await post<RuleSet>('/connect/routing/rule-sets', {
      name: `rs-${Date.now()}`,
      rules,
      default: def,
    });
    expect(created.status).toBe(201);
    const active = await post<RuleSet>(`/connect/routing/rule-sets/${created.body.id}/activate`);
    expect(active.status).toBe(200);
    return active.body;
  }

  const fourRules = (goldBps: number) => [
    {
      name: 'large-manual-capture',
      when: { field: 'amount', op: 'gt', value: 1_000_000 },
      route: { charge_type: 'direct', capture_method: 'manual', fee: { basis_points: 500 } },
    },
    {
      name: 'gold-tier',
      when: { field: 'tenant.tier', op: 'eq', value: 'gold' },
      route: { charge_type: 'direct', fee: { basis_points: goldBps } },
    },
    {
      name: 'eur-destination',
      when: { field: 'currency', op: 'eq', value: 'eur' },
      route: { charge_type: 'destination', on_behalf_of: true, fee: { basis_points: 250 } },
    },
    {
      name: 'small-usd-direct',
      when: {
        all: [
          { field: 'currency', op: 'eq', value: 'usd' },
          { field: 'amount', op: 'lte', value: 5_000 },
        ],
      },
      route: { charge_type: 'direct', fee: { basis_points: 200, fixed: { usd: 10 } } },
    },
  ];

  return {
    get t(): TestApp {
      return t;
    },
    get gateway(): StripeGateway {
      return gateway;
    },
    get ds(): DataSource {
      return ds;
    },
    platform,
    call,
    post,
    get,
    connectTenant,
    pay,
    requests,
    activate,
    fourRules,
  };
}

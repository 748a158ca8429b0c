import { api, ApiResponse, JsonBody } from '../support/http';
import { emulatorControl } from '../support/emulator';
import { completedPayment } from '../support/factory';
import { eventually } from '../utils/eventually';
import { createPrivateDatabase } from '../utils/private-database';
import { bootTestApp, TestApp } from '../support/app';
import { OpenApiDoc, Operation, parameterExample, requestBodies, successStatus } from './openapi-sample';

/**
 * Every request example of the API document, sent as Swagger UI's "Try it out" sends it, against a fresh
 * development service on which the quick start's tenant (`tenant_acme`) was connected through OAuth. Each answers
 * the operation's documented success status. A path id Swagger UI cannot know (a payment's, an event's) is the id
 * of what an earlier example created, so the operations run in the order of STEPS; an operation missing from it
 * fails the first test.
 */
type State = Record<string, string>;

interface Step {
  op: string;
  /** Values of parameters without an example (path ids), from what earlier steps kept. */
  fill?: (s: State) => Record<string, string>;
  /** Keeps what later steps need from the answer. */
  keep?: (body: JsonBody, s: State) => void;
  /** Where the documented success needs something no example can carry; the reason is the test's name. */
  expect?: { status: number; why: string };
  /**
   * Replaces parts of the example body that cannot be valid on any fresh service (ids of objects the tenant creates
   * at Stripe, not through this service); the reason is in the step's comment.
   */
  patch?: (body: JsonBody, s: State) => JsonBody;
  /** Waits before the call for something asynchronous an earlier step started. */
  before?: (s: State) => Promise<void>;
  headers?: Record<string, string>;
}

const STEPS: Step[] = [
  { op: 'GET /health/live' },
  { op: 'GET /health/ready' },
  { op: 'GET /metrics' },
  { op: 'POST /connect/oauth/url' },
  { op: 'GET /connect/accounts/{tenantId}' },
  { op: 'PUT /connect/accounts/{tenantId}' },
  { op: 'POST /connect/accounts/{tenantId}/onboarding' },
  { op: 'POST /connect/api-keys', keep: (b, s) => (s.apiKey = b.id) },
  { op: 'GET /connect/api-keys' },
  { op: 'POST /connect/api-keys/{id}/rotate', fill: (s) => ({ id: s.apiKey }) },
  { op: 'DELETE /connect/api-keys/{id}', fill: (s) => ({ id: s.apiKey }) },
  { op: 'GET /connect/audit-log' },
  { op: 'POST /connect/auth/revocations' },
  { op: 'GET /connect/auth/revocations' },
  { op: 'POST /connect/payments', keep: (b, s) => (s.payment = b.id) },
  {
    op: 'GET /connect/payments/{id}',
    fill: (s) => ({ id: s.payment }),
    before: (s) => completed(s.payment),
  },
  { op: 'GET /connect/payments' },
  { op: 'POST /connect/payments/{id}/refunds', fill: (s) => ({ id: s.payment }) },
  {
    op: 'POST /connect/subscriptions',
    // A subscription bills a customer and a price of the tenant's own Stripe account, which the platform creates at
    // Stripe: the test creates them at the emulator and puts their ids into the example.
    before: async (s) => {
      const account = await acmeAccount();
      s.customer = (await stripe(account, 'customers', { email: 'ada@acme.test' })).id;
      s.price = (
        await stripe(account, 'prices', {
          currency: 'usd',
          unit_amount: '1500',
          'recurring[interval]': 'month',
          'product_data[name]': 'Pro plan',
        })
      ).id;
    },
    patch: (b, s) => ({ ...b, customer: s.customer, price: s.price }),
    keep: (b, s) => (s.subscriptionRoute = b.id),
  },
  { op: 'DELETE /connect/subscriptions/{id}', fill: (s) => ({ id: s.subscriptionRoute }) },
  { op: 'POST /connect/event-subscriptions', keep: (b, s) => (s.subscription = b.id) },
  { op: 'GET /connect/event-subscriptions' },
  { op: 'GET /connect/event-subscriptions/{id}', fill: (s) => ({ id: s.subscription }) },
  { op: 'POST /connect/event-subscriptions/{id}/enable', fill: (s) => ({ id: s.subscription }) },
  { op: 'GET /connect/events', keep: (b, s) => (s.event = b.data[0].id) },
  { op: 'GET /connect/events/{id}', fill: (s) => ({ id: s.event }) },
  { op: 'GET /connect/events/{id}/deliveries', fill: (s) => ({ id: s.event }) },
  { op: 'POST /connect/events/{id}/redeliver', fill: (s) => ({ id: s.event }) },
  { op: 'DELETE /connect/event-subscriptions/{id}', fill: (s) => ({ id: s.subscription }) },
  { op: 'GET /connect/webhooks/events', keep: (b, s) => (s.inbox = b.data[0].id) },
  { op: 'GET /connect/webhooks/events/{id}', fill: (s) => ({ id: s.inbox }) },
  { op: 'POST /connect/webhooks/events/{id}/replay', fill: (s) => ({ id: s.inbox }) },
  { op: 'POST /connect/webhooks/backfill' },
  {
    op: 'POST /connect/webhooks',
    expect: { status: 400, why: "Stripe's own deliveries: an example cannot carry a valid signature" },
  },
  { op: 'POST /connect/routing/rule-sets', keep: (b, s) => (s.ruleSet ??= b.id) },
  { op: 'GET /connect/routing/rule-sets' },
  { op: 'GET /connect/routing/rule-sets/{id}', fill: (s) => ({ id: s.ruleSet }) },
  { op: 'POST /connect/routing/rule-sets/{id}/validate', fill: (s) => ({ id: s.ruleSet }) },
  { op: 'POST /connect/routing/rule-sets/{id}/simulate', fill: (s) => ({ id: s.ruleSet }) },
  { op: 'POST /connect/routing/rule-sets/{id}/replay', fill: (s) => ({ id: s.ruleSet }) },
  { op: 'POST /connect/routing/rule-sets/{id}/activate', fill: (s) => ({ id: s.ruleSet }) },
  { op: 'GET /connect/routing/active' },
  {
    op: 'POST /connect/routing/rollback',
    // Something to roll back to: another rule set activated over the example's.
    before: async () => {
      const other = await api(t)('POST', '/connect/routing/rule-sets', {
        token,
        body: { name: 'replaced-by-rollback', rules: [], default: {} },
      });
      await api(t)('POST', `/connect/routing/rule-sets/${other.body.id}/activate`, { token });
    },
  },
  {
    op: 'POST /connect/reconciliation/runs',
    // Something for the run to find: the example payment's amount changed at Stripe behind the service's back.
    before: async (s) => {
      const pi = (await api(t)('GET', `/connect/payments/${s.payment}`, { token })).body.payment_intent.id;
      await emulatorControl(t.emulatorUrl!, `objects/${pi}`, { set: { amount: 2100 } });
    },
    keep: (b, s) => (s.run = b.id),
  },
  { op: 'GET /connect/reconciliation/runs' },
  { op: 'GET /connect/reconciliation/runs/{id}', fill: (s) => ({ id: s.run }) },
  { op: 'GET /connect/reconciliation/runs/{id}/items', fill: (s) => ({ id: s.run }) },
  {
    op: 'POST /connect/reconciliation/items/{id}/resolve',
    fill: (s) => ({ id: s.item }),
    before: async (s) => {
      s.item = await eventually('the run to report its item', async () => {
        const run = await api(t)('GET', `/connect/reconciliation/runs/${s.run}`, { token });
        if (run.body.status !== 'completed') return undefined;
        const items = await api(t)('GET', `/connect/reconciliation/runs/${s.run}/items`, { token });
        return items.body.data[0]?.id as string | undefined;
      });
    },
  },
  { op: 'POST /connect/analytics/query' },
  { op: 'POST /connect/analytics/query', headers: { accept: 'text/csv' } },
  { op: 'GET /connect/accounts' },
  // tenant_acme already has its OAuth account: the create answers that account, its documented 200.
  { op: 'POST /connect/accounts/{tenantId}' },
  { op: 'POST /connect/accounts/{tenantId}/sessions' },
  { op: 'POST /connect/webhooks/destinations' },
  { op: 'GET /connect/webhooks/destinations' },
  // Something on the balance: a paid direct charge of tenant_acme.
  {
    op: 'GET /connect/accounts/{tenantId}/balance',
    before: async () => {
      await paid();
    },
  },
  {
    op: 'POST /connect/accounts/{tenantId}/payouts',
    // A standard payout needs a manual schedule, which the owner of a Standard (OAuth) account sets in its own
    // Stripe dashboard, not the platform: the test sets it at the emulator.
    before: async () => {
      await emulatorControl(t.emulatorUrl!, `objects/${await acmeAccount()}`, {
        set: { 'settings.payouts.schedule.interval': 'manual' },
      });
    },
    keep: (b, s) => (s.payout = b.id),
  },
  { op: 'GET /connect/accounts/{tenantId}/payouts' },
  { op: 'GET /connect/payouts/{id}', fill: (s) => ({ id: s.payout }) },
  { op: 'POST /connect/payouts/{id}/cancel', fill: (s) => ({ id: s.payout }) },
  {
    op: 'GET /connect/payouts/{id}/transactions',
    fill: (s) => ({ id: s.reconciledPayout }),
    // Only a reconciled automatic payout lists its contents: Stripe runs one and completes its reconciliation.
    before: async (s) => {
      await emulatorControl(t.emulatorUrl!, `accounts/${await acmeAccount()}/payouts/run`, {
        until: 'reconciled',
      });
      s.reconciledPayout = await eventually('the reconciled payout', async () => {
        const list = await api(t)('GET', '/connect/accounts/tenant_acme/payouts', { token });
        const done = (list.body.data as JsonBody[]).find((p) => p.reconciliation_status === 'completed');
        return done?.id as string | undefined;
      });
    },
  },
  // A customer disputes a paid charge at the bank; the service learns of it from Stripe's webhook.
  {
    op: 'GET /connect/disputes',
    before: async (s) => {
      s.dispute = await disputed();
    },
  },
  { op: 'GET /connect/disputes/{id}', fill: (s) => ({ id: s.dispute }) },
  { op: 'POST /connect/disputes/{id}/evidence', fill: (s) => ({ id: s.dispute }) },
  {
    op: 'POST /connect/disputes/{id}/accept',
    fill: (s) => ({ id: s.conceded }),
    // The first dispute's evidence is submitted: another one to concede.
    before: async (s) => {
      s.conceded = await disputed();
    },
  },
  { op: 'DELETE /connect/accounts/{tenantId}' },
];

let t: TestApp;
let doc: OpenApiDoc;
let token: string;
let drop: () => Promise<void>;
const state: State = {};

/** A call to the emulator's Stripe API on a connected account, as the platform makes them at Stripe. */
async function stripe(account: string, resource: string, params: Record<string, string>): Promise<JsonBody> {
  const res = await fetch(`${t.emulatorUrl}/v1/${resource}`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer sk_test_swagger_examples',
      'stripe-account': account,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params).toString(),
  });
  if (!res.ok) throw new Error(`emulator ${resource}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function acmeAccount(): Promise<string> {
  return (await api(t)('GET', '/connect/accounts/tenant_acme', { token })).body.stripe_account_id;
}

/** A direct charge of tenant_acme, paid and completed; answers its charge id. */
async function paid(): Promise<string> {
  return (await completedPayment(t, { tenant: 'tenant_acme', amount: 10_000, charge_type: 'direct', token }))
    .charge;
}

/** A dispute of a new paid charge of tenant_acme, as the service records it; answers its id. */
async function disputed(): Promise<string> {
  const charge = await paid();
  await emulatorControl(t.emulatorUrl!, `charges/${charge}/dispute`, {});
  return eventually('the dispute to be recorded', async () => {
    const list = await api(t)('GET', '/connect/disputes?tenant_id=tenant_acme&limit=100', { token });
    return (list.body.data as JsonBody[]).find((d) => d.charge_id === charge)?.id as string | undefined;
  });
}

async function completed(paymentId: string): Promise<void> {
  await eventually('the example payment to complete', async () => {
    const res = await api(t)('GET', `/connect/payments/${paymentId}`, { token });
    return res.body.status === 'completed';
  });
}

function operation(key: string): Operation {
  const [method, path] = key.split(' ');
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${key} is not in the API document`);
  return op;
}

async function send(step: Step): Promise<{ name: string; res: ApiResponse }[]> {
  const [method, template] = step.op.split(' ');
  const op = operation(step.op);
  const filled = step.fill?.(state) ?? {};
  const query = new URLSearchParams();
  const headers: Record<string, string> = { ...step.headers };
  let path = template;
  for (const p of op.parameters ?? []) {
    const value = filled[p.name] ?? parameterExample(p);
    if (value === undefined) {
      if (p.required) throw new Error(`${step.op}: the required ${p.in} parameter ${p.name} has no example`);
      continue;
    }
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(String(value)));
    else if (p.in === 'query') query.set(p.name, String(value));
    else if (p.in === 'header' && !(p.name.toLowerCase() in headers))
      headers[p.name.toLowerCase()] = String(value);
  }
  const url = query.size ? `${path}?${query.toString()}` : path;
  const out: { name: string; res: ApiResponse }[] = [];
  for (const { name, body } of requestBodies(doc, op)) {
    const sent = step.patch ? step.patch(body, state) : body;
    out.push({ name, res: await api(t)(method, url, { token, headers, body: sent }) });
  }
  return out;
}

describe('Swagger examples run against a fresh development service', () => {
  beforeAll(async () => {
    const db = await createPrivateDatabase();
    drop = db.drop;
    t = await bootTestApp({ DATABASE_URL: db.url }, undefined, { listen: true, registerWebhooks: true });
    token = t.token({ sub: 'swagger-examples', roles: ['platform'] });
    doc = (await api(t)('GET', '/docs-json')).body as OpenApiDoc;

    // The quick start's first step: OAuth through the emulator, which approves by itself.
    const start = await api(t)('POST', '/connect/oauth/url', { token, body: { tenant_id: 'tenant_acme' } });
    const consent = await fetch(start.body.url as string, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    const done = await api(t)('GET', `${callback.pathname}${callback.search}`, {
      headers: { accept: 'application/json' },
    });
    expect(done.body.outcome).toBe('connected');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await drop?.();
  });

  it('has a step for every operation of the API document', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const covered = new Set([...STEPS.map((s) => s.op), 'GET /connect/oauth/callback']);
    expect(documented.filter((k) => !covered.has(k))).toEqual([]);
  });

  it('offers CSV of the analytics query as a response media type, not as a parameter', () => {
    const op = operation('POST /connect/analytics/query');
    expect(Object.keys(op.responses['200'].content ?? {})).toEqual(['application/json', 'text/csv']);
    expect((op.parameters ?? []).map((p) => p.name.toLowerCase())).not.toContain('accept');
  });

  it.each(STEPS.map((s) => [`${s.op}${s.headers?.accept ? ` (${s.headers.accept})` : ''}`, s]))(
    '%s answers its documented status',
    async (_name, step) => {
      await step.before?.(state);
      const expected = step.expect?.status ?? successStatus(operation(step.op));
      for (const { name, res } of await send(step)) {
        if (res.status !== expected)
          throw new Error(
            `example "${name}" answered ${res.status}, not ${expected}: ${res.raw.slice(0, 800)}`,
          );
        if (step.headers?.accept) expect(String(res.headers['content-type'])).toContain(step.headers.accept);
        step.keep?.(res.body, state);
      }
    },
    30_000,
  );
});

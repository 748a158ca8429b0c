import { ConnectAccountEntity, PaymentRouteEntity, PaymentRouteType } from '@app/database';
import { ErrorCode } from '@app/common';
import { emulatorControl } from '../support/emulator';
import { RuleSet, routingSuite } from './routing-suite';

jest.setTimeout(180_000);

describe('routing rules, alternative routing and split payments against the emulator', () => {
  const suite = routingSuite();
  const { post, get, connectTenant, pay, requests, activate, fourRules } = suite;

  let v1: RuleSet;
  let window: { from: string; to: string };
  let goldTenant: string;

  it('with no rule set active, GET /connect/routing/active is 404 and a payment routes as today', async () => {
    expect((await get('/connect/routing/active')).status).toBe(404);
    const { tenant } = await connectTenant();
    const res = await post('/connect/payments', pay(tenant, 9_000, 'usd'));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      fee: 291,
      charge_type: 'direct',
      routing: { rule_set_id: null, version: null, rule: null },
      attempts: [],
    });
  });

  it('only platform callers manage rule sets', async () => {
    const admin = suite.t.token({ sub: 'tenant-admin', tenant_id: 'tenant_x', roles: ['admin'] });
    const res = await post(
      '/connect/routing/rule-sets',
      { name: 'cheap', rules: [], default: { fee: { basis_points: 0 } } },
      admin,
    );
    expect(res.status).toBe(403);
    expect(res.body.code).toBe(ErrorCode.Forbidden);
  });

  it('a four-rule set routes each payment as written, the fee checked on the PaymentIntent at the emulator', async () => {
    const draft = await post<RuleSet & { problems?: unknown }>('/connect/routing/rule-sets', {
      name: 'checkout',
      rules: fourRules(100),
      default: {},
    });
    expect(draft.body.status).toBe('draft');
    expect(
      (await post<{ valid: boolean }>(`/connect/routing/rule-sets/${draft.body.id}/validate`)).body,
    ).toEqual({ valid: true, problems: [] });
    const act = await post<RuleSet>(`/connect/routing/rule-sets/${draft.body.id}/activate`);
    expect(act.body).toMatchObject({ status: 'active', version: draft.body.version });
    v1 = act.body;
    expect((await get<RuleSet>('/connect/routing/active')).body.id).toBe(v1.id);

    const from = new Date().toISOString();
    const plain = await connectTenant();
    const gold = await connectTenant({ tier: 'gold' });
    goldTenant = gold.tenant;
    const cases: [string, string, number, string, string | null, number, string][] = [
      [plain.tenant, plain.acct, 3_000, 'usd', 'small-usd-direct', 70, 'direct'],
      [plain.tenant, plain.acct, 4_000, 'eur', 'eur-destination', 100, 'destination'],
      [plain.tenant, plain.acct, 2_000_000, 'usd', 'large-manual-capture', 100_000, 'direct'],
      [gold.tenant, gold.acct, 3_000, 'usd', 'gold-tier', 30, 'direct'],
      [plain.tenant, plain.acct, 9_000, 'usd', null, 291, 'direct'],
    ];
    for (const [tenant, acct, amount, currency, rule, fee, chargeType] of cases) {
      const res = await post('/connect/payments', pay(tenant, amount, currency));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        fee,
        charge_type: chargeType,
        routing: { rule_set_id: v1.id, version: v1.version, rule },
      });
      expect(res.body.attempts).toHaveLength(1);
      expect(res.body.attempts[0]).toMatchObject({
        outcome: 'succeeded',
        payment_intent: res.body.payment_intent.id,
      });
      const pi = await suite.gateway.retrievePaymentIntent(
        res.body.payment_intent.id!,
        chargeType === 'direct' ? { stripeAccount: acct } : {},
      );
      expect(pi.application_fee_amount).toBe(fee);
      if (rule === 'eur-destination') {
        expect(pi.transfer_data?.destination).toBe(acct);
        expect(pi.on_behalf_of).toBe(acct);
      }
      if (rule === 'large-manual-capture') {
        expect(pi.capture_method).toBe('manual');
        expect(pi.status).toBe('requires_capture');
      }
    }
    window = { from, to: new Date(Date.now() + 1).toISOString() };
  });

  it('simulate and replay answer without a request reaching the emulator; replay matches a hand count', async () => {
    const v2 = await post<RuleSet>('/connect/routing/rule-sets', {
      name: 'gold-150',
      rules: fourRules(150),
      default: {},
    });
    const before = (await requests()).length;
    const sim = await post<{
      rule: string | null;
      fee: number;
      blocked: boolean;
      trace: { rule: string; matched: boolean }[];
    }>(`/connect/routing/rule-sets/${v2.body.id}/simulate`, {
      payment: { tenant_id: goldTenant, amount: 3_000, currency: 'usd' },
    });
    expect(sim.status).toBe(200);
    expect(sim.body).toMatchObject({ rule: 'gold-tier', fee: 45, blocked: false });
    expect(sim.body.trace.map((s) => [s.rule, s.matched])).toEqual([
      ['large-manual-capture', false],
      ['gold-tier', true],
    ]);
    const replay = await post<Record<string, unknown>>(
      `/connect/routing/rule-sets/${v2.body.id}/replay`,
      window,
    );
    expect(replay.status).toBe(200);
    // By hand: the five payments above; only the gold one changes (fee 30 → 45).
    expect(replay.body).toEqual({
      payments: 5,
      changed: 1,
      by_rule: {
        'small-usd-direct': { payments: 1, changed: 0 },
        'eur-destination': { payments: 1, changed: 0 },
        'large-manual-capture': { payments: 1, changed: 0 },
        'gold-tier': { payments: 1, changed: 1 },
        default: { payments: 1, changed: 0 },
      },
      fee_delta_by_currency: { usd: 15, eur: 0 },
    });
    const blockSet = await post<RuleSet>('/connect/routing/rule-sets', {
      name: 'risk',
      rules: [
        {
          name: 'no-kp',
          when: { field: 'card.country', op: 'eq', value: 'KP' },
          route: { block: { reason: 'sanctions' } },
        },
      ],
      default: {},
    });
    const blocked = await post<{ blocked: boolean; rule: string }>(
      `/connect/routing/rule-sets/${blockSet.body.id}/simulate`,
      {
        payment: { tenant_id: goldTenant, amount: 3_000, currency: 'usd', card: { country: 'KP' } },
      },
    );
    expect(blocked.body).toMatchObject({ blocked: true, rule: 'no-kp' });
    expect((await requests()).length).toBe(before);
  });

  it('activation under concurrent payments: each decided wholly by one version; rollback restores the old one', async () => {
    const v2 = await post<RuleSet>('/connect/routing/rule-sets', {
      name: 'gold-150',
      rules: fourRules(150),
      default: {},
    });
    const feeOf: Record<number, number> = { [v1.version]: 30, [v2.body.version]: 45 };
    const payments = Array.from({ length: 24 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 15)).then(() =>
        post('/connect/payments', pay(goldTenant, 3_000, 'usd')),
      ),
    );
    const activation = new Promise((r) => setTimeout(r, 150)).then(() =>
      post<RuleSet>(`/connect/routing/rule-sets/${v2.body.id}/activate`),
    );
    const [results, act] = await Promise.all([Promise.all(payments), activation]);
    expect(act.body.status).toBe('active');
    const versions = new Set<number>();
    for (const r of results) {
      expect(r.status).toBe(201);
      const v = r.body.routing.version!;
      versions.add(v);
      expect(r.body.fee).toBe(feeOf[v]);
      const row = await suite.ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id: r.body.id });
      expect(row.routing_version).toBe(v);
      const acct = row.stripe_account_id;
      const pi = await suite.gateway.retrievePaymentIntent(r.body.payment_intent.id!, {
        stripeAccount: acct,
      });
      expect(pi.application_fee_amount).toBe(feeOf[v]);
    }
    expect([...versions].every((v) => v in feeOf)).toBe(true);
    const back = await post<RuleSet>('/connect/routing/rollback');
    expect(back.body).toMatchObject({ id: v1.id, status: 'active' });
    expect((await get<RuleSet>(`/connect/routing/rule-sets/${v2.body.id}`)).body.status).toBe('retired');
    const after = await post('/connect/payments', pay(goldTenant, 3_000, 'usd'));
    expect(after.body).toMatchObject({ fee: 30, routing: { version: v1.version, rule: 'gold-tier' } });
  });

  describe('alternative routing', () => {
    const altRules = [
      {
        name: 'direct-else-destination',
        when: { field: 'tenant.tier', op: 'eq', value: 'alt' },
        route: { charge_type: 'direct', fee: { basis_points: 300 } },
        alternatives: [{ charge_type: 'destination', fee: { basis_points: 400 } }],
      },
    ];
    beforeAll(async () => {
      await activate(altRules);
      // card_payments alone goes inactive (test mode does not always link the two capabilities).
      await emulatorControl(suite.t.emulatorUrl!, '/settings', { linked_capabilities: false });
    });

    async function cardPaymentsOff(acct: string, tenant: string): Promise<void> {
      await emulatorControl(suite.t.emulatorUrl!, `/accounts/${acct}/capabilities`, {
        card_payments: 'inactive',
      });
      const deadline = Date.now() + 20_000;
      for (;;) {
        const row = await suite.ds.getRepository(ConnectAccountEntity).findOneByOrFail({ tenant_id: tenant });
        if (row.capabilities.card_payments === 'inactive') return;
        if (Date.now() > deadline) throw new Error('capability.updated never reached the account');
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    it('card_payments inactive (known from the webhooks): not eligible for direct, completed as a destination charge', async () => {
      const { tenant, acct } = await connectTenant({ tier: 'alt' });
      await cardPaymentsOff(acct, tenant);
      const res = await post('/connect/payments', pay(tenant, 10_000, 'usd'));
      expect(res.status).toBe(201);
      expect(res.body.charge_type).toBe('destination');
      expect(res.body.fee).toBe(400);
      expect(res.body.attempts.map((a) => [a.outcome, a.failure_code])).toEqual([
        ['not_eligible', 'card_payments_inactive'],
        ['succeeded', null],
      ]);
      const pi = await suite.gateway.retrievePaymentIntent(res.body.payment_intent.id!);
      expect(pi.transfer_data?.destination).toBe(acct);
      expect(pi.application_fee_amount).toBe(400);
    });

    it('card_payments inactive at Stripe but not yet known here: Stripe refuses, the next route under a new key', async () => {
      const { tenant, acct } = await connectTenant({ tier: 'alt' });
      await cardPaymentsOff(acct, tenant);
      // Our copy is stale (the webhook has not been applied yet, as it were).
      await suite.ds
        .getRepository(ConnectAccountEntity)
        .update({ tenant_id: tenant }, { capabilities: { card_payments: 'active', transfers: 'active' } });
      const res = await post('/connect/payments', pay(tenant, 10_000, 'usd'));
      expect(res.status).toBe(201);
      expect(res.body.attempts.map((a) => [a.outcome, a.failure_code])).toEqual([
        ['failed', 'card_payments_inactive'],
        ['succeeded', null],
      ]);
      const keys = (await requests())
        .filter(
          (r) =>
            r.method === 'POST' &&
            r.path === '/v1/payment_intents' &&
            r.idempotency_key?.startsWith(`route:${res.body.id}`),
        )
        .map((r) => r.idempotency_key);
      expect(new Set(keys)).toEqual(
        new Set([`route:${res.body.id}:create`, `route:${res.body.id}:attempt:2`]),
      );
    });

    it('a declined card is not rerouted', async () => {
      const { tenant } = await connectTenant({ tier: 'alt' });
      const res = await post(
        '/connect/payments',
        pay(tenant, 10_000, 'usd', { payment_method: 'pm_card_chargeDeclined' }),
      );
      expect(res.status).toBe(402);
      expect(res.body.code).toBe(ErrorCode.CardDeclined);
      const id = res.body.details!.payment_route_id as string;
      const row = await suite.ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id });
      expect(row.attempts.map((a) => a.outcome)).toEqual(['failed']);
      expect(row.status).toBe('failed');
      const sent = (await requests()).filter((r) => r.idempotency_key?.startsWith(`route:${id}`));
      expect(sent.every((r) => r.idempotency_key === `route:${id}:create`)).toBe(true);
    });

    it('a timed-out first attempt is not followed by a second PaymentIntent; it is resolved by its own key', async () => {
      const { tenant, acct } = await connectTenant({ tier: 'alt' });
      await emulatorControl(suite.t.emulatorUrl!, '/faults', {
        path: '/v1/payment_intents',
        method: 'POST',
        count: 20,
        status: 500,
        mode: 'after',
      });
      const res = await post('/connect/payments', pay(tenant, 10_000, 'usd'));
      await emulatorControl(suite.t.emulatorUrl!, '/faults', undefined, 'DELETE');
      expect(res.status).toBe(202);
      expect(res.body.attempts.map((a) => a.outcome)).toEqual(['unknown']);
      const deadline = Date.now() + 30_000;
      let row = await suite.ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id: res.body.id });
      while (
        (!row.stripe_payment_intent_id || row.attempts[0]?.outcome === 'unknown') &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 250));
        row = await suite.ds.getRepository(PaymentRouteEntity).findOneByOrFail({ id: res.body.id });
      }
      expect(row.attempts.map((a) => a.outcome)).toEqual(['succeeded']);
      const pis = await suite.gateway.listPaymentIntents({ limit: 100 }, { stripeAccount: acct });
      expect(pis.data.map((p) => p.id)).toEqual([row.stripe_payment_intent_id]);
      const keys = new Set(
        (await requests())
          .filter((r) => r.idempotency_key?.startsWith(`route:${res.body.id}`))
          .map((r) => r.idempotency_key),
      );
      expect(keys).toEqual(new Set([`route:${res.body.id}:create`]));
    });

    afterAll(async () => {
      await emulatorControl(suite.t.emulatorUrl!, '/settings', { linked_capabilities: true });
    });
  });

  it('a blocked payment is refused with PaymentBlocked and nothing reaches Stripe', async () => {
    const { tenant } = await connectTenant();
    await activate([
      {
        name: 'no-kp',
        when: { field: 'card.country', op: 'eq', value: 'KP' },
        route: { block: { reason: 'sanctions' } },
      },
    ]);
    const before = (await requests()).length;
    const res = await post('/connect/payments', pay(tenant, 1_000, 'usd', { card: { country: 'KP' } }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      code: ErrorCode.PaymentBlocked,
      details: { reason: 'sanctions', rule: 'no-kp' },
    });
    expect((await requests()).length).toBe(before);
  });

  it('a three-tenant split: one charge, three transfers in one group, the tree adds up; a partial refund reverses in proportion', async () => {
    const [a, b, c] = [await connectTenant(), await connectTenant(), await connectTenant()];
    await activate([
      {
        name: 'cart-split',
        when: { field: 'metadata.cart', op: 'eq', value: 'multi' },
        route: {
          charge_type: 'separate',
          fee: { basis_points: 500 },
          split: [
            { tenant_id: a.tenant, share_bps: 5_000 },
            { tenant_id: b.tenant, share_bps: 3_000 },
            { tenant_id: c.tenant, share_bps: 2_000 },
          ],
        },
      },
    ]);
    const res = await post(
      '/connect/payments',
      pay(a.tenant, 10_001, 'usd', { metadata: { cart: 'multi' } }),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      charge_type: 'separate',
      fee: 500,
      transfer_group: `route_${res.body.id}`,
    });
    const pi = await suite.gateway.retrievePaymentIntent(res.body.payment_intent.id!);
    expect(pi.transfer_group).toBe(res.body.transfer_group);
    expect(pi.application_fee_amount ?? null).toBeNull();
    const charge = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge!.id;

    const children = async () =>
      (
        await suite.ds
          .getRepository(PaymentRouteEntity)
          .findBy({ parent_id: res.body.id, type: PaymentRouteType.Transfer })
      ).sort(
        (x, y) =>
          ((x.stripe_details.split_index as number) ?? 0) - ((y.stripe_details.split_index as number) ?? 0),
      );
    let kids = await children();
    for (let i = 0; i < 50 && kids.some((k) => !k.stripe_object_id); i++) {
      await new Promise((r) => setTimeout(r, 200));
      kids = await children();
    }
    // 10 001 − 500 = 9 501 shared 50/30/20: 4 750.5, 2 850.3, 1 900.2 → the spare cent to the largest remainder.
    expect(kids.map((k) => [k.tenant_id, k.amount])).toEqual([
      [a.tenant, 4_751],
      [b.tenant, 2_850],
      [c.tenant, 1_900],
    ]);
    expect(kids.reduce((s, k) => s + k.amount, 0) + res.body.fee).toBe(10_001);
    const transfers = await suite.gateway.listTransfers({
      transfer_group: res.body.transfer_group!,
      limit: 10,
    });
    expect(transfers.data).toHaveLength(3);
    for (const k of kids) {
      const tr = transfers.data.find((x) => x.id === k.stripe_object_id)!;
      expect(tr).toMatchObject({
        amount: k.amount,
        destination: k.stripe_account_id,
        transfer_group: res.body.transfer_group,
      });
      expect(
        typeof tr.source_transaction === 'string' ? tr.source_transaction : tr.source_transaction?.id,
      ).toBe(charge);
    }
    const payments = (await requests()).filter(
      (r) =>
        r.method === 'POST' &&
        r.path === '/v1/payment_intents' &&
        r.idempotency_key?.startsWith(`route:${res.body.id}`),
    );
    expect(payments).toHaveLength(1);

    const refund = await post(`/connect/payments/${res.body.id}/refunds`, { amount: 5_000 });
    expect(refund.status).toBe(201);
    // round(5 000 × 9 501 / 10 001) = 4 750 reversed, split 4 751 : 2 850 : 1 900 by largest remainder.
    const expected = [2_375, 1_425, 950];
    kids = await children();
    for (let i = 0; i < 50 && kids.some((k) => !(k.stripe_details as { reversed?: number }).reversed); i++) {
      await new Promise((r) => setTimeout(r, 200));
      kids = await children();
    }
    expect(kids.map((k) => (k.stripe_details as { reversed?: number }).reversed)).toEqual(expected);
    for (const [i, k] of kids.entries()) {
      const tr = await suite.gateway.retrieveTransfer(k.stripe_object_id!);
      expect(tr.amount_reversed).toBe(expected[i]);
    }
    const rest = await post(`/connect/payments/${res.body.id}/refunds`, {});
    expect(rest.status).toBe(201);
    for (let i = 0; i < 50; i++) {
      kids = await children();
      if (kids.every((k) => (k.stripe_details as { reversed?: number }).reversed === k.amount)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const k of kids)
      expect((await suite.gateway.retrieveTransfer(k.stripe_object_id!)).amount_reversed).toBe(k.amount);
  });
});

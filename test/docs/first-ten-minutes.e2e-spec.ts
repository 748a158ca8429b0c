import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bash, NewcomerService, readmeBlocks, startNewcomerService } from './newcomer-service';

/**
 * The README's "First ten minutes", block by block as written there, against a service started as a newcomer
 * starts it. Only `localhost:3000` becomes the port this run took. Shell variables a block sets (URL, PAYMENT,
 * QUERY) carry to the next blocks, as in one terminal.
 */
const BLOCKS = readmeBlocks('First ten minutes');

describe('README: first ten minutes', () => {
  let svc: NewcomerService;
  let stateDir: string;
  const outputs: string[] = [];

  beforeAll(async () => {
    const tools = await bash('command -v curl && command -v jq', { PATH: process.env.PATH });
    if (tools.code !== 0)
      throw new Error('the quick start needs curl and jq on the PATH (apt-get install curl jq)');
    svc = await startNewcomerService();
    stateDir = mkdtempSync(join(tmpdir(), 'connect-quickstart-'));
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, 30_000);

  it('has the story in runnable blocks', () => {
    expect(BLOCKS.length).toBeGreaterThanOrEqual(6);
    const all = BLOCKS.join('\n');
    for (const call of [
      '/connect/oauth/url',
      '/connect/accounts/tenant_acme',
      '/connect/payments',
      '/refunds',
      '/connect/events',
      '/connect/analytics/query',
      'text/csv',
    ])
      expect(all).toContain(call);
  });

  it.each(BLOCKS.map((b, i) => [i + 1, b.split('\n')[0], b]))(
    'block %i (%s) succeeds',
    async (_i, _first, block) => {
      const state = join(stateDir, 'shell-state');
      const script = [
        'set -a',
        `[ -f '${state}' ] && . '${state}'`,
        'set -eo pipefail',
        block.replace(/localhost:3000/g, `localhost:${svc.port}`),
        `export -p > '${state}'`,
      ].join('\n');
      const res = await bash(script, { PATH: process.env.PATH, HOME: process.env.HOME, TOKEN: svc.token });
      if (res.code !== 0) throw new Error(`exit ${res.code}\n${res.stdout}\n${res.stderr}`);
      outputs.push(res.stdout);
    },
    70_000,
  );

  it('connected tenant_acme, charged 100.00 with its fee, refunded 25.00, and told the story in events and numbers', async () => {
    const all = outputs.join('\n');
    expect(all).toContain('"outcome": "connected"');
    expect(all).toMatch(/"status": "completed",\s*"amount": 10000,\s*"fee": 320/);
    expect(all).toMatch(/"type": "refund",\s*"status": "completed",\s*"amount": 2500/);
    for (const type of ['connect.account.connected', 'connect.payment.completed', 'connect.refund.completed'])
      expect(all).toContain(type);
    expect(all).toMatch(/"gross_volume": 10000,\s*"fees_collected": 320,\s*"refunds_amount": 2500/);
    expect(all).toMatch(
      /^start,end,currency,gross_volume,fees_collected,refunds_amount\r?\n.*,usd,10000,320,2500\r?$/m,
    );

    // What the emulator holds, not only our rows: the PaymentIntent, its fee and the refund.
    const auth = { authorization: `Bearer ${svc.token}` };
    const routes = (await (
      await fetch(`${svc.base}/connect/payments?tenant_id=tenant_acme`, { headers: auth })
    ).json()) as {
      data: { type: string; stripe_account_id: string; payment_intent: { id: string } | null }[];
    };
    const payment = routes.data.find((r) => r.type === 'payment')!;
    expect(payment.payment_intent).not.toBeNull();
    const stripe = async <T>(path: string): Promise<T> =>
      (await (
        await fetch(`${svc.emulatorBase}/v1/${path}`, {
          headers: { authorization: 'Bearer sk_test_newcomer', 'stripe-account': payment.stripe_account_id },
        })
      ).json()) as T;
    const pi = await stripe<{
      amount: number;
      status: string;
      application_fee_amount: number;
      latest_charge: string;
    }>(`payment_intents/${payment.payment_intent!.id}`);
    expect(pi).toMatchObject({ amount: 10_000, status: 'succeeded', application_fee_amount: 320 });
    expect(await stripe(`charges/${pi.latest_charge}`)).toMatchObject({ amount_refunded: 2_500 });
  });
});

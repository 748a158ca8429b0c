import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PaymentRouteEntity, PaymentRouteType } from '@app/database';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';

jest.setTimeout(120_000);

describe("a dispute's link to its PaymentRoute is a foreign key with the tenant in it", () => {
  let t: TestApp;
  let ds: DataSource;

  beforeAll(async () => {
    t = await bootTestApp();
    ds = t.app.get(DataSource);
  });
  afterAll(async () => t?.close());

  const insertDispute = (tenant: string, paymentId: string | null) =>
    ds.query(
      `INSERT INTO disputes (tenant_id, stripe_dispute_id, payment_id, amount, currency, reason, status, liable,
         recovery, created_at)
       VALUES ($1, $2, $3, 1000, 'usd', 'fraudulent', 'needs_response', 'tenant', '{"status":"none"}', now())`,
      [tenant, `du_${randomUUID().replace(/-/g, '')}`, paymentId],
    );

  it("holds only a route of the dispute's own tenant, or nothing", async () => {
    const [tenant, other] = [uniqueTenant('dfk'), uniqueTenant('dfk')];
    const route = await ds.getRepository(PaymentRouteEntity).save({
      tenant_id: tenant,
      stripe_account_id: 'acct_dispute_link',
      type: PaymentRouteType.Payment,
      amount: 1000,
      currency: 'usd',
      stripe_idempotency_key: `dfk-${randomUUID()}`,
    });
    await expect(insertDispute(tenant, route.id)).resolves.toBeDefined();
    await expect(insertDispute(tenant, null)).resolves.toBeDefined();
    await expect(insertDispute(other, route.id)).rejects.toThrow(/foreign key/);
    await expect(insertDispute(tenant, randomUUID())).rejects.toThrow(/foreign key/);
    // A route a dispute names is not deleted from under it.
    await expect(ds.getRepository(PaymentRouteEntity).delete({ id: route.id })).rejects.toThrow(
      /foreign key/,
    );
  });
});

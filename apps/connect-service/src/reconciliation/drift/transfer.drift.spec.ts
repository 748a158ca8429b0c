import { ChargeType, DriftCategory, PaymentRouteType } from '@app/database';
import type { StripeTransfer } from '@app/stripe-gateway';
import { routeOf, stripeObject, unix } from './drift-fixtures';
import { compareTransfers } from './transfer.drift';

const transfer = (o: Record<string, unknown> = {}): StripeTransfer =>
  stripeObject({
    id: 'tr_1',
    amount: 1000,
    amount_reversed: 0,
    destination: 'acct_a',
    destination_payment: 'py_1',
    source_transaction: 'ch_1',
    transfer_group: null,
    reversals: { data: [{ destination_payment_refund: 'pyr_1' }] },
    metadata: {},
    created: unix('2026-01-01T00:00:20Z'),
    ...o,
  });
const owner = { tenantId: 'tenant-a', stripeAccountId: 'acct_a' };
const destination = routeOf({ charge_type: ChargeType.Destination });

describe('compareTransfers', () => {
  it("accepts a destination charge's transfer of the whole amount or of the amount net of the fee", () => {
    const rows = { own: new Map(), bySource: new Map([['ch_1', destination]]) };
    expect(compareTransfers([transfer()], rows, owner).findings).toEqual([]);
    expect(compareTransfers([transfer({ amount: 900 })], rows, owner).findings).toEqual([]);
    const out = compareTransfers([transfer({ amount: 500 })], rows, owner);
    expect(out.findings.map((f) => f.category)).toEqual([DriftCategory.TransferMismatch]);
  });

  it('links the transfer and the account-side payment and reversal refunds it made', () => {
    const rows = { own: new Map(), bySource: new Map([['ch_1', destination]]) };
    const out = compareTransfers([transfer()], rows, owner);
    expect(out.matches.map((m) => m.stripe_object_id)).toEqual(['tr_1', 'py_1', 'pyr_1']);
  });

  it("checks a split payment's own transfer against its amount and destination", () => {
    const split = routeOf({ type: PaymentRouteType.Transfer, amount: 700, stripe_object_id: 'tr_1' });
    const rows = { own: new Map([['tr_1', split]]), bySource: new Map() };
    expect(compareTransfers([transfer({ amount: 700 })], rows, owner).findings).toEqual([]);
    expect(
      compareTransfers([transfer({ amount: 700, destination: 'acct_b' })], rows, owner).findings,
    ).toHaveLength(1);
  });

  it('reports a transfer tagged with this tenant that no route explains', () => {
    const rows = { own: new Map(), bySource: new Map() };
    const tagged = compareTransfers([transfer({ metadata: { tenant_id: 'tenant-a' } })], rows, owner);
    expect(tagged.findings.map((f) => f.category)).toEqual([DriftCategory.MissingLocal]);
    expect(compareTransfers([transfer()], rows, owner).findings).toEqual([]);
  });
});

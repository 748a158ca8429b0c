import type { StripeBalanceTransaction } from '@app/stripe-gateway';
import { sourceOf } from './payout-sources.service';

const txn = (source: unknown): StripeBalanceTransaction =>
  ({ id: 'txn_1', source }) as StripeBalanceTransaction;

describe('sourceOf', () => {
  it('reads an id, or an expanded object with nothing behind it', () => {
    expect(sourceOf(txn('ch_1'))).toEqual({ id: 'ch_1', transfer: null, reversal: null });
    expect(sourceOf(txn({ id: 'ch_1', object: 'charge', source_transfer: null }))).toEqual({
      id: 'ch_1',
      transfer: null,
      reversal: null,
    });
    expect(sourceOf(txn(null))).toEqual({ id: null, transfer: null, reversal: null });
  });

  it("a destination payment's transfer, expanded or not", () => {
    expect(sourceOf(txn({ id: 'py_1', object: 'charge', source_transfer: 'tr_1' }))).toEqual({
      id: 'py_1',
      transfer: 'tr_1',
      reversal: null,
    });
    expect(sourceOf(txn({ id: 'py_1', source_transfer: { id: 'tr_1', object: 'transfer' } })).transfer).toBe(
      'tr_1',
    );
  });

  it("a reversal's refund: the reversal, and the transfer of the payment it refunded", () => {
    const pyr = { id: 'pyr_1', object: 'refund', source_transfer_reversal: 'trr_1' };
    expect(sourceOf(txn({ ...pyr, charge: { id: 'py_1', source_transfer: 'tr_1' } }))).toEqual({
      id: 'pyr_1',
      transfer: 'tr_1',
      reversal: 'trr_1',
    });
    // Without the charge expanded the transfer is unknown.
    expect(sourceOf(txn({ ...pyr, charge: 'py_1' }))).toEqual({
      id: 'pyr_1',
      transfer: null,
      reversal: 'trr_1',
    });
  });
});

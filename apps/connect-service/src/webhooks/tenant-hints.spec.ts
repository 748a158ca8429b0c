import { tenantHintsOf } from './tenant-hints';

describe('tenantHintsOf', () => {
  it('takes event.account for connected-account events', () => {
    const hints = tenantHintsOf({ account: 'acct_1', data: { object: { object: 'customer', id: 'cus_1' } } });
    expect(hints).toEqual({
      account: 'acct_1',
      metadataTenantId: null,
      accountIds: [],
      paymentIntentIds: [],
    });
  });

  it('reads a destination charge: metadata, transfer_data.destination, on_behalf_of and the PaymentIntent', () => {
    const hints = tenantHintsOf({
      data: {
        object: {
          object: 'payment_intent',
          id: 'pi_1',
          metadata: { tenant_id: 'tenant_a' },
          transfer_data: { destination: 'acct_dest' },
          on_behalf_of: 'acct_dest',
        },
      },
    });
    expect(hints).toEqual({
      account: null,
      metadataTenantId: 'tenant_a',
      accountIds: ['acct_dest'],
      paymentIntentIds: ['pi_1'],
    });
  });

  it("accepts expanded objects and reads a charge's payment_intent", () => {
    const hints = tenantHintsOf({
      data: {
        object: {
          object: 'charge',
          id: 'ch_1',
          payment_intent: { id: 'pi_2', object: 'payment_intent' },
          transfer_data: { destination: { id: 'acct_x', object: 'account' } },
        },
      },
    });
    expect(hints.accountIds).toEqual(['acct_x']);
    expect(hints.paymentIntentIds).toEqual(['pi_2']);
  });

  it('reads a transfer destination and an application fee account', () => {
    expect(
      tenantHintsOf({ data: { object: { object: 'transfer', destination: 'acct_t' } } }).accountIds,
    ).toEqual(['acct_t']);
    expect(
      tenantHintsOf({ data: { object: { object: 'application_fee', account: 'acct_f' } } }).accountIds,
    ).toEqual(['acct_f']);
  });

  it('ignores what is not an account id, blank metadata and malformed objects', () => {
    const hints = tenantHintsOf({
      account: '',
      data: { object: { object: 'payout', destination: 'ba_123', metadata: { tenant_id: '  ' } } },
    });
    expect(hints).toEqual({ account: null, metadataTenantId: null, accountIds: [], paymentIntentIds: [] });
    expect(tenantHintsOf({})).toEqual({
      account: null,
      metadataTenantId: null,
      accountIds: [],
      paymentIntentIds: [],
    });
  });
});

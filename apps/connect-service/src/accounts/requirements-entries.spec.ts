import type { StripeAccount, StripeV2Account } from '@app/stripe-gateway';
import { configurationsFromV2, entriesFromV1, entriesFromV2, nextDeadline } from './requirements-entries';

describe('requirement entries', () => {
  it('maps v1 arrays onto entries, past due first, eventually due without a deadline', () => {
    const account = {
      capabilities: { card_payments: 'inactive' },
      requirements: {
        past_due: ['external_account'],
        currently_due: ['external_account', 'tos_acceptance.date'],
        eventually_due: ['external_account', 'tos_acceptance.date', 'individual.id_number'],
        current_deadline: 1_800_000_000,
        disabled_reason: 'requirements.past_due',
        errors: [{ requirement: 'tos_acceptance.date', code: 'invalid_value_other', reason: 'bad date' }],
      },
    } as unknown as StripeAccount;
    const entries = entriesFromV1(account);
    expect(entries.map((e) => [e.field, e.due])).toEqual([
      ['external_account', 'past_due'],
      ['tos_acceptance.date', 'currently_due'],
      ['individual.id_number', 'eventually_due'],
    ]);
    expect(entries[0]).toMatchObject({ restricts: ['card_payments'], deadline: '2027-01-15T08:00:00.000Z' });
    expect(entries[1].errors).toEqual([{ code: 'invalid_value_other', description: 'bad date' }]);
    expect(entries[2].deadline).toBeNull();
    expect(nextDeadline(entries)?.toISOString()).toBe('2027-01-15T08:00:00.000Z');
  });

  it('maps v2 entries with their restrictions and flattens nested capabilities', () => {
    const account = {
      configuration: {
        recipient: {
          applied: true,
          capabilities: { stripe_balance: { stripe_transfers: { status: 'active' } } },
        },
      },
      requirements: {
        entries: [
          {
            description: 'company.tax_id',
            awaiting_action_from: 'user',
            errors: [],
            impact: {
              restricts_capabilities: [
                { capability: 'stripe_balance.stripe_transfers', configuration: 'recipient' },
              ],
            },
            minimum_deadline: { status: 'currently_due' },
            requested_reasons: [],
          },
        ],
        summary: { minimum_deadline: { status: 'currently_due', time: '2027-01-01T00:00:00Z' } },
      },
    } as unknown as StripeV2Account;
    expect(entriesFromV2(account)).toEqual([
      {
        field: 'company.tax_id',
        due: 'currently_due',
        deadline: '2027-01-01T00:00:00.000Z',
        awaiting_action_from: 'user',
        restricts: ['recipient.stripe_balance.stripe_transfers'],
        errors: [],
      },
    ]);
    expect(configurationsFromV2(account)).toEqual({
      recipient: { applied: true, capabilities: { 'stripe_balance.stripe_transfers': 'active' } },
    });
  });
});

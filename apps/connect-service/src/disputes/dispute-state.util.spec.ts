import {
  fundsOf,
  initialRecovery,
  isForward,
  liableOf,
  recoveryIdempotencyKey,
  reversalAmount,
} from './dispute-state.util';

describe('dispute state rules', () => {
  it.each([
    [null, 'needs_response', true],
    ['needs_response', 'under_review', true],
    ['under_review', 'needs_response', false],
    ['under_review', 'won', true],
    ['won', 'lost', false],
    ['lost', 'under_review', false],
    ['won', 'won', true],
    ['warning_needs_response', 'warning_under_review', true],
    ['warning_under_review', 'needs_response', true],
    ['needs_response', 'warning_needs_response', false],
  ])('from %s to %s: forward %s', (from, to, expected) => {
    expect(isForward(from, to)).toBe(expected);
  });

  it('the platform carries disputes on its own account, the tenant those on its account', () => {
    expect(liableOf(null)).toBe('platform');
    expect(liableOf(undefined)).toBe('platform');
    expect(liableOf('acct_123')).toBe('tenant');
  });

  it('sums the funds a dispute moved', () => {
    expect(
      fundsOf([
        { amount: -2000, fee: 1500 },
        { amount: 2000, fee: 0 },
      ]),
    ).toEqual({ withdrawn: 2000, reinstated: 2000, fee: 1500 });
    expect(fundsOf(undefined)).toEqual({ withdrawn: 0, reinstated: 0, fee: 0 });
  });

  it('never reverses more than the transfer has left', () => {
    expect(reversalAmount(2000, 1500, false, 5000)).toBe(2000);
    expect(reversalAmount(2000, 1500, true, 5000)).toBe(3500);
    expect(reversalAmount(2000, 1500, true, 1800)).toBe(1800);
    expect(reversalAmount(2000, 0, false, 0)).toBe(0);
  });

  it('recovery starts pending only for platform-liable disputes with reverse_transfer', () => {
    expect(initialRecovery('platform', 'reverse_transfer').status).toBe('pending');
    expect(initialRecovery('platform', 'none').status).toBe('none');
    expect(initialRecovery('tenant', 'reverse_transfer').status).toBe('not_applicable');
  });

  it('derives one key per dispute and step', () => {
    expect(recoveryIdempotencyKey('du_1', 'reverse')).toBe('dispute-recovery:du_1:reverse');
    expect(recoveryIdempotencyKey('du_1', 'return')).not.toBe(recoveryIdempotencyKey('du_1', 'reverse'));
  });
});

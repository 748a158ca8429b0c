import Stripe from 'stripe';
import { ServiceException, ErrorCode } from '@app/common';
import { verifyStripeWebhook } from './verify-stripe-webhook';

const OLD = 'whsec_old_0123456789abcdef';
const NEW = 'whsec_new_fedcba9876543210';
const payload = JSON.stringify({
  id: 'evt_1',
  object: 'event',
  type: 'account.updated',
  data: { object: { id: 'acct_1' } },
});
const body = Buffer.from(payload);
const sign = (secret: string, timestamp?: number): string =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceException);
    expect((err as ServiceException).code).toBe(ErrorCode.WebhookInvalid);
    return (err as ServiceException).details?.reason;
  }
  throw new Error('expected a rejection');
}

describe('verifyStripeWebhook', () => {
  it('accepts a signature made with any of the configured secrets (rotation)', () => {
    expect(verifyStripeWebhook(body, sign(NEW), [OLD, NEW]).id).toBe('evt_1');
    expect(verifyStripeWebhook(body, sign(OLD), [OLD, NEW]).type).toBe('account.updated');
  });

  it('accepts a header carrying signatures for both secrets', () => {
    const t = Math.floor(Date.now() / 1000);
    const both = `${sign(OLD, t)},v1=${sign(NEW, t).split('v1=')[1]}`;
    expect(verifyStripeWebhook(body, both, [NEW]).id).toBe('evt_1');
  });

  it.each([
    ['missing header', undefined, [NEW], 'missing_signature'],
    ['empty header', '', [NEW], 'missing_signature'],
    ['garbage header', 'nonsense', [NEW], 'malformed'],
    ['no v1 scheme', `t=${Math.floor(Date.now() / 1000)},v0=abc`, [NEW], 'malformed'],
    ['forged (unknown secret)', sign('whsec_attacker'), [OLD, NEW], 'no_matching_signature'],
    [
      '10 minutes old',
      sign(NEW, Math.floor(Date.now() / 1000) - 600),
      [OLD, NEW],
      'timestamp_out_of_tolerance',
    ],
    ['no secret configured', sign(NEW), [], 'no_secret_configured'],
  ])('refuses %s', (_name, header, secrets, reason) => {
    expect(reasonOf(() => verifyStripeWebhook(body, header, secrets))).toBe(reason);
  });

  it('refuses a tampered body', () => {
    const header = sign(NEW);
    const tampered = Buffer.from(payload.replace('acct_1', 'acct_2'));
    expect(reasonOf(() => verifyStripeWebhook(tampered, header, [NEW]))).toBe('no_matching_signature');
  });

  it('honours a custom tolerance', () => {
    const header = sign(NEW, Math.floor(Date.now() / 1000) - 60);
    expect(verifyStripeWebhook(body, header, [NEW], 300).id).toBe('evt_1');
    expect(reasonOf(() => verifyStripeWebhook(body, header, [NEW], 30))).toBe('timestamp_out_of_tolerance');
  });

  it('never puts a secret in the error', () => {
    try {
      verifyStripeWebhook(body, sign('whsec_attacker'), [NEW]);
    } catch (err) {
      expect(JSON.stringify((err as ServiceException).toBody())).not.toContain('whsec_');
    }
  });
});

import Stripe from 'stripe';
import { signPayload } from './signature';

describe('signPayload', () => {
  const secret = 'whsec_test_secret';
  const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'account.updated' }, null, 2);

  it("produces the header the stripe SDK's constructEvent accepts", () => {
    const event = Stripe.webhooks.constructEvent(payload, signPayload(payload, secret), secret);
    expect(event.id).toBe('evt_1');
  });

  it('matches the SDK test helper byte for byte for the same timestamp', () => {
    const timestamp = 1_700_000_000;
    expect(signPayload(payload, secret, timestamp)).toBe(
      Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
    );
  });

  it('is refused with another secret or a changed body', () => {
    const header = signPayload(payload, secret);
    expect(() => Stripe.webhooks.constructEvent(payload, header, 'whsec_other')).toThrow();
    expect(() => Stripe.webhooks.constructEvent(payload + ' ', header, secret)).toThrow();
  });
});

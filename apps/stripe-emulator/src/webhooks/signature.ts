import { createHmac } from 'node:crypto';

/**
 * Stripe's webhook signature: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the whsec_ secret>`.
 * https://docs.stripe.com/webhooks#verify-manually
 */
export function signPayload(
  payload: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/** Injection token for the effective Stripe connection (key + API base) the gateway is built from. */
export const STRIPE_CONNECTION = Symbol('STRIPE_CONNECTION');

export interface StripeConnection {
  secretKey: string;
  /** e.g. http://127.0.0.1:12111; undefined means Stripe itself. */
  apiBase?: string;
  /** True when apiBase is the bundled emulator started by this process (development only). */
  emulated: boolean;
}

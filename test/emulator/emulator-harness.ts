import Stripe from 'stripe';
import { EmulatorOptions, RunningEmulator, startStripeEmulator } from '@app/stripe-emulator';

/** What an emulator suite drives: the real SDK and the control API of one in-process emulator. */
export interface EmulatorHarness {
  readonly emulator: RunningEmulator;
  readonly stripe: Stripe;
  /** A control API call under /_emulator; the answer's JSON with its HTTP `status` added. */
  control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** A connected express account with verification completed (card_payments and transfers active). */
  verifiedAccount(): Promise<string>;
}

/** Boots an emulator for the suite (reset before each test) and closes it after. */
export function useEmulator(apiKey: string, options: EmulatorOptions = {}): EmulatorHarness {
  let emulator: RunningEmulator | undefined;
  let stripe: Stripe | undefined;
  const harness: EmulatorHarness = {
    get emulator() {
      return emulator as RunningEmulator;
    },
    get stripe() {
      return stripe as Stripe;
    },
    async control(method, path, body) {
      const res = await fetch(`${harness.emulator.url}/_emulator${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, ...((await res.json()) as Record<string, unknown>) };
    },
    async verifiedAccount() {
      const account = await harness.stripe.accounts.create({ type: 'express', country: 'US' });
      await harness.control('POST', `/accounts/${account.id}/verification`, { action: 'complete' });
      return account.id;
    },
  };
  beforeAll(async () => {
    emulator = await startStripeEmulator({ port: 0, ...options });
    stripe = new Stripe(apiKey, {
      host: '127.0.0.1',
      port: emulator.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
  });
  afterAll(() => emulator?.close());
  beforeEach(() => harness.control('POST', '/reset'));
  return harness;
}

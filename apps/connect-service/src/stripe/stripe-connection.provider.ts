import { FactoryProvider, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { serviceConfig, stripeConfig } from '@app/config';
import { STRIPE_CONNECTION, StripeConnection } from '@app/stripe-gateway';
import { startStripeEmulator } from '@app/stripe-emulator';

/** The emulator's key: any `sk_test_` key is accepted by it, and this one can never work on real Stripe. */
export const EMULATOR_SECRET_KEY = 'sk_test_emulator';

/**
 * STRIPE_CONNECTION for the service: STRIPE_SECRET_KEY (+ STRIPE_API_BASE) when set; otherwise,
 * outside production, the bundled emulator started in this process on STRIPE_EMULATOR_PORT (0 = ephemeral,
 * for tests) and closed with the application. Production without a key refuses to boot.
 */
export const stripeConnectionProvider: FactoryProvider<StripeConnection> = {
  provide: STRIPE_CONNECTION,
  inject: [stripeConfig.KEY, serviceConfig.KEY],
  useFactory: async (
    stripe: ConfigType<typeof stripeConfig>,
    service: ConfigType<typeof serviceConfig>,
  ): Promise<StripeConnection> => {
    if (stripe.secretKey) return { secretKey: stripe.secretKey, apiBase: stripe.apiBase, emulated: false };
    if (service.nodeEnv === 'production') {
      // Config validation already refuses this; kept so the provider is safe on its own.
      throw new Error('STRIPE_SECRET_KEY is required in production');
    }
    const emulator = await startOrShareEmulator(stripe.emulatorPort);
    new Logger('Stripe').warn(
      `STRIPE_SECRET_KEY is not set: Stripe is EMULATED at ${emulator.url} ` +
        `(${emulator.shared ? 'shared with the process that started it' : 'started here'}); no real money moves`,
    );
    const connection: StripeConnection & OnModuleDestroy = {
      secretKey: EMULATOR_SECRET_KEY,
      apiBase: emulator.url,
      emulated: true,
      // Nest calls lifecycle hooks on factory-provided values too, so the emulator closes with the app.
      onModuleDestroy: () => emulator.close(),
    };
    return connection;
  },
};

/**
 * Starts the emulator, or shares the one another process of ours runs on the port (a CLI beside `npm start` must
 * see the same Stripe state as the service).
 */
async function startOrShareEmulator(
  port: number,
): Promise<{ url: string; shared: boolean; close: () => Promise<void> }> {
  try {
    return { ...(await startStripeEmulator({ port, host: '127.0.0.1' })), shared: false };
  } catch (err) {
    if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    const url = `http://127.0.0.1:${port}`;
    const health = await fetch(`${url}/_emulator/health`, { signal: AbortSignal.timeout(2000) }).catch(
      () => null,
    );
    if (!health?.ok)
      throw new Error(
        `STRIPE_EMULATOR_PORT ${port} is taken by something that is not the Stripe emulator: set ` +
          'STRIPE_EMULATOR_PORT to a free port (0: any), or STRIPE_SECRET_KEY',
      );
    return { url, shared: true, close: async () => undefined };
  }
}

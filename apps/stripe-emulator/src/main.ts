import { startStripeEmulator } from './index';

/** Standalone: `npm run emulator`. STRIPE_EMULATOR_PORT (12111) and STRIPE_EMULATOR_HOST (127.0.0.1). */
async function main(): Promise<void> {
  const port = Number(process.env.STRIPE_EMULATOR_PORT ?? 12111);
  const host = process.env.STRIPE_EMULATOR_HOST ?? '127.0.0.1';
  const emulator = await startStripeEmulator({ port, host });
  process.stdout.write(
    `Stripe emulator listening at ${emulator.url} (any sk_test_ key; control API at ${emulator.url}/_emulator/)\n`,
  );
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`Stripe emulator failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

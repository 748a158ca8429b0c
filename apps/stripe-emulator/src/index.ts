import { EmulatorState, ResolvedOptions } from './context';
import type { StateHolder } from './context';
import { createServer } from './server';
import { loadSpecValidator } from './spec-validator';

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Stripe's OpenAPI description; undefined = the default location, null = no unknown-parameter check. */
  specPath?: string | null;
  webhookRetry?: { initialDelayMs: number; maxAttempts: number };
  logger?: (msg: string) => void;
}

export interface RunningEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

export { SPEC_EXCEPTIONS } from './spec-validator';

/** Starts the emulator; port 0 picks an ephemeral port. */
export async function startStripeEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const options: ResolvedOptions = {
    webhookRetry: opts.webhookRetry ?? { initialDelayMs: 1000, maxAttempts: 6 },
    logger: opts.logger ?? ((msg) => process.stderr.write(`[stripe-emulator] ${msg}\n`)),
  };
  const validator = loadSpecValidator(opts.specPath, options.logger);
  const holder: StateHolder = {
    state: new EmulatorState(options),
    options,
    reset() {
      this.state.close();
      this.state = new EmulatorState(options);
    },
  };
  const app = createServer(holder, validator);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 12111, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 12111);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      holder.state.close();
      await app.close();
    },
  };
}

import { EmulatorState, ResolvedOptions } from './context';
import type { StateHolder } from './context';
import { createServer } from './server';
import { committedSpecValidator } from './spec-validator';

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Reject unknown parameters (400 `parameter_unknown`) by the committed table; default true. */
  checkParams?: boolean;
  webhookRetry?: { initialDelayMs: number; maxAttempts: number };
  logger?: (msg: string) => void;
}

export interface RunningEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

export { SPEC_EXCEPTIONS } from './spec-validator';
/** An entry of the control API's request log (`GET /_emulator/requests`). */
export type { RequestLogEntry } from './context';

/** Every route the emulator's server registers (method + Fastify URL), without starting it. */
export async function registeredRoutes(): Promise<Array<{ method: string; url: string }>> {
  const routes: Array<{ method: string; url: string }> = [];
  const options: ResolvedOptions = {
    webhookRetry: { initialDelayMs: 1000, maxAttempts: 1 },
    logger: () => undefined,
  };
  const holder: StateHolder = { state: new EmulatorState(options), options, reset: () => undefined };
  const app = createServer(holder, null, (r) => routes.push(r));
  await app.ready();
  holder.state.close();
  await app.close();
  return routes;
}

/** Starts the emulator; port 0 picks an ephemeral port. */
export async function startStripeEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const options: ResolvedOptions = {
    webhookRetry: opts.webhookRetry ?? { initialDelayMs: 1000, maxAttempts: 6 },
    logger: opts.logger ?? ((msg) => process.stderr.write(`[stripe-emulator] ${msg}\n`)),
  };
  const validator = opts.checkParams === false ? null : committedSpecValidator();
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

import { ChildProcess, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import Stripe from 'stripe';
import { startStripeEmulator } from '../../../apps/stripe-emulator/src';

/**
 * The fault suite's infrastructure: a PostgreSQL and a Redis of its own on free private ports (stopped, killed and
 * restarted at will; the machine's shared servers are never touched), the Stripe emulator with its fault controls,
 * and the built service as a child process (`node dist/.../main.js`), so its pid and its exit can be asserted.
 */

export const MAIN = join(__dirname, '../../../dist/apps/connect-service/src/main.js');
export const JWT_SECRET = 'faults-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const LOG_DIR = join(tmpdir(), 'connect-faults-logs');
const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function log(msg: string): void {
  process.stdout.write(`[faults ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

// ------------------------------------------------------------------------------------------------ PostgreSQL

type Reply = { ok: boolean; error?: string; port?: number; url?: string };

/** The suite's own PostgreSQL (test/faults/support/postgres-child.js), driven over IPC. */
export class PrivatePostgres {
  private seq = 0;
  private constructor(
    private readonly child: ChildProcess,
    readonly serverUrl: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const child = fork(join(__dirname, 'postgres-child.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const pg = new PrivatePostgres(child, '');
    const reply = await pg.call('init', 120_000);
    return new PrivatePostgres(child, reply.url!);
  }

  private call(cmd: string, timeoutMs = 60_000): Promise<Reply> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`postgres ${cmd}: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onMessage = (m: Reply & { id: number }) => {
        if (m.id !== id) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        if (m.ok) resolve(m);
        else reject(new Error(`postgres ${cmd}: ${m.error}`));
      };
      this.child.on('message', onMessage);
      this.child.send({ id, cmd });
    });
  }

  /** Fast shutdown, as `pg_ctl stop -m fast` (a failover, a minor upgrade): open sessions end with 57P01. */
  stop(): Promise<Reply> {
    return this.call('stop');
  }

  start(): Promise<Reply> {
    return this.call('start');
  }

  async destroy(): Promise<void> {
    await this.call('destroy').catch(() => undefined);
  }

  async createDatabase(name: string): Promise<string> {
    const admin = new Client({ connectionString: this.serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = new URL(this.serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }
}

// ------------------------------------------------------------------------------------------------ Redis

/** `redis-server` on a free port, no persistence; kill() is SIGKILL, start() the same port again. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await this.ping())) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('redis-server did not answer PING in 10 s');
      await sleep(50);
    }
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1');
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

// ------------------------------------------------------------------------------------------------ Stripe

export interface Emulator {
  url: string;
  stripe: Stripe;
  close(): Promise<void>;
  /** Adds a fault (see the emulator's /_emulator/faults). */
  fault(spec: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
}

export async function startEmulator(): Promise<Emulator> {
  const emu = await startStripeEmulator({
    port: 0,
    host: '127.0.0.1',
    logger: () => undefined,
    // Redelivers for ~1 min (0.5 s doubling), long enough to outlast the outages below.
    webhookRetry: { initialDelayMs: 500, maxAttempts: 8 },
  });
  const api = new URL(emu.url);
  const stripe = new Stripe('sk_test_faults', {
    host: api.hostname,
    port: Number(api.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const control = async (method: string, body?: unknown) => {
    const res = await fetch(`${emu.url}/_emulator/faults`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`emulator faults: ${res.status} ${await res.text()}`);
  };
  return {
    url: emu.url,
    stripe,
    close: () => emu.close(),
    fault: (spec) => control('POST', spec),
    clearFaults: () => control('DELETE'),
  };
}

/** A connected, active tenant: an account in the emulator, verified, and its row in the service's database. */
export async function connectTenant(
  emulator: Emulator,
  databaseUrl: string,
): Promise<{ tenant: string; account: string }> {
  const account = await emulator.stripe.accounts.create({ type: 'express', country: 'US' });
  await fetch(`${emulator.url}/_emulator/accounts/${account.id}/verification`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'complete' }),
  });
  const tenant = `tenant_faults_${randomUUID().slice(0, 8)}`;
  await withDb(databaseUrl, (db) =>
    db.query(
      `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, charges_enabled, payouts_enabled, details_submitted)
       VALUES ($1, $2, 'active', 'account_link', 'express', true, true, true)`,
      [tenant, account.id],
    ),
  );
  return { tenant, account: account.id };
}

/** Registers the platform and Connect webhook endpoints at `serviceUrl`; answers their signing secrets. */
export async function registerWebhooks(
  emulator: Emulator,
  serviceUrl: string,
): Promise<{ platform: string; connect: string }> {
  const secrets: string[] = [];
  for (const connect of [false, true]) {
    const endpoint = await emulator.stripe.webhookEndpoints.create({
      url: `${serviceUrl}/connect/webhooks`,
      enabled_events: ['*'],
      connect,
    });
    secrets.push(endpoint.secret!);
  }
  return { platform: secrets[0], connect: secrets[1] };
}

// ------------------------------------------------------------------------------------------------ service

export async function withDb<T>(url: string, fn: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** The built service as a child process, on production defaults unless `env` says otherwise. */
export class ServiceProcess {
  private output = '';
  exitCode: number | null | undefined = undefined;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    // The whole log also goes to a file, named in the suite's output, for a failing run's post-mortem.
    mkdirSync(LOG_DIR, { recursive: true });
    const file = createWriteStream(join(LOG_DIR, `service-${child.pid}.log`));
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', (d: Buffer) => {
        this.output = (this.output + d.toString()).slice(-200_000);
        file.write(d);
      });
    }
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  logs(): string {
    return this.output;
  }

  static async start(opts: {
    port: number;
    databaseUrl: string;
    redisUrl?: string;
    emulatorUrl: string;
    secrets: { platform: string; connect: string };
    env?: Record<string, string>;
  }): Promise<ServiceProcess> {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` (npm run test:faults does)`);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_OPTIONS: '--max-old-space-size=256',
        NODE_ENV: 'production',
        PORT: String(opts.port),
        HOST: '127.0.0.1',
        DATABASE_URL: opts.databaseUrl,
        ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
        STRIPE_SECRET_KEY: 'sk_test_faults',
        STRIPE_API_BASE: opts.emulatorUrl,
        STRIPE_WEBHOOK_SECRET: opts.secrets.platform,
        STRIPE_CONNECT_WEBHOOK_SECRET: opts.secrets.connect,
        JWT_SECRET,
        ENCRYPTION_KEY,
        LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'warn',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const svc = new ServiceProcess(child, `http://127.0.0.1:${opts.port}`);
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (!svc.running)
        throw new Error(`the service exited with ${svc.exitCode}:\n${svc.logs().slice(-4000)}`);
      const res = await fetch(`${svc.url}/health/ready`).catch(() => null);
      if (res?.ok) break;
      if (Date.now() > deadline)
        throw new Error(`the service was not ready in 90 s:\n${svc.logs().slice(-4000)}`);
      await sleep(200);
    }
    return svc;
  }

  /** SIGTERM (or SIGKILL as the last resort) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** The sum of a counter in /metrics (0 when absent). */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }
}

/** Polls GET path every `everyMs` and records each status (0 = no answer), until stopped. */
export function probe(
  urlOf: () => string,
  path: string,
  everyMs = 100,
): { statuses: Array<{ at: number; status: number }>; stop(): Promise<void> } {
  const statuses: Array<{ at: number; status: number }> = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const status = await fetch(`${urlOf()}${path}`, { signal: AbortSignal.timeout(5000) })
        .then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        })
        .catch(() => 0);
      statuses.push({ at: Date.now(), status });
      await sleep(everyMs);
    }
  })();
  return {
    statuses,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

// ------------------------------------------------------------------------------------------------ a whole world

export interface World {
  pg: PrivatePostgres;
  redis: PrivateRedis;
  emulator: Emulator;
  databaseUrl: string;
  tenant: string;
  account: string;
  secrets: { platform: string; connect: string };
  /** Where the emulator delivers (the service's port, or a proxy in front of several replicas). */
  port: number;
  startService(env?: Record<string, string>, port?: number): Promise<ServiceProcess>;
  close(): Promise<void>;
}

/** Production defaults but for the caller/tenant budgets (one test caller sends all the payments). */
export const SCENARIO_ENV = {
  REQUEST_TIMEOUT_MS: '5000',
  RATE_LIMIT_PER_CALLER: '1000000',
  RATE_LIMIT_PER_TENANT: '1000000',
  SHUTDOWN_DELAY_MS: '1500',
};

export async function startWorld(name: string, opts: { deliverTo?: number } = {}): Promise<World> {
  const pg = await PrivatePostgres.start();
  const redis = await PrivateRedis.start();
  const emulator = await startEmulator();
  const databaseUrl = await pg.createDatabase(`connect_faults_${name}`);
  const port = opts.deliverTo ?? (await freePort());
  const secrets = await registerWebhooks(emulator, `http://127.0.0.1:${port}`);
  const services: ServiceProcess[] = [];
  let tenant: { tenant: string; account: string } | null = null;
  const world: World = {
    pg,
    redis,
    emulator,
    databaseUrl,
    secrets,
    port,
    get tenant() {
      return tenant!.tenant;
    },
    get account() {
      return tenant!.account;
    },
    async startService(env = {}, servicePort = port) {
      const svc = await ServiceProcess.start({
        port: servicePort,
        databaseUrl,
        redisUrl: redis.url,
        emulatorUrl: emulator.url,
        secrets,
        env: { ...SCENARIO_ENV, ...env },
      });
      services.push(svc);
      // The first boot ran the migrations: the tenant's row can go in now.
      tenant ??= await connectTenant(emulator, databaseUrl);
      return svc;
    },
    async close() {
      for (const s of services) await s.stop('SIGKILL').catch(() => undefined);
      await emulator.close().catch(() => undefined);
      await redis.kill().catch(() => undefined);
      await pg.destroy();
    },
  };
  return world;
}

/**
 * A TCP load balancer in front of the replicas: new connections go to `target`, open ones stay where they are (as
 * a Kubernetes Service does when a pod starts terminating), so a replica's drain is seen through kept-alive sockets.
 */
export async function startBalancer(
  port: number,
  target: number,
): Promise<{ url: string; target: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const lb = {
    url: `http://127.0.0.1:${port}`,
    target,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(lb.target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return lb;
}

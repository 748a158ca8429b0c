import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { signAccessToken } from '@app/auth';
import { createPrivateDatabase } from '../utils/private-database';
import { ALL_SCOPES, TEST_JWT_SECRET, uniqueTenant } from '../support/app';
import { CONNECT_SECRET, deliver, eventBody, PLATFORM_SECRET } from '../webhooks/webhook-support';
import { eventually } from '../utils/eventually';

/**
 * Tracing end to end, through the real exporter: the BUILT service runs as a child process (so the SDK starts
 * before anything it patches loads, as in production) with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/JSON
 * receiver this test runs and keeps in memory; one signed Stripe event must end up as ONE trace from the intake
 * request through the pg-boss job, the handler and its Stripe call, the fan-out and the delivery to the endpoint.
 */
const DIST = join(__dirname, '../../dist/apps/connect-service/src');
const MAIN = join(DIST, 'main.js');

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

const SPAN_KIND = { SERVER: 2, CLIENT: 3, CONSUMER: 5 } as const;

/** An OTLP/HTTP receiver for `http/json` (what OTEL_EXPORTER_OTLP_PROTOCOL=http/json sends to /v1/traces). */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as {
          resourceSpans: Array<{
            scopeSpans: Array<{
              spans: Array<
                Omit<OtlpSpan, 'attributes'> & {
                  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
                }
              >;
            }>;
          }>;
        };
        for (const rs of doc.resourceSpans)
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans) {
              const attributes: Record<string, unknown> = {};
              for (const a of s.attributes ?? []) attributes[a.key] = Object.values(a.value)[0];
              spans.push({ ...s, parentSpanId: s.parentSpanId || undefined, attributes });
            }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => closeServer(server),
  };
}

/** A subscription endpoint that records what it receives and answers 200. */
async function startEndpoint(): Promise<{
  url: string;
  received: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }>;
  close(): Promise<void>;
}> {
  const received: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('OpenTelemetry: one trace from a Stripe webhook to the outbound delivery', () => {
  let db: Awaited<ReturnType<typeof createPrivateDatabase>>;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  let child: ChildProcess | undefined;
  let output = '';
  let base = '';

  const platform = () => ({
    authorization: `Bearer ${signAccessToken(
      { sub: 'trace-test', roles: ['platform'], scope: ALL_SCOPES },
      { secret: TEST_JWT_SECRET, expiresIn: '10m' },
    )}`,
  });

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`);
    db = await createPrivateDatabase();
    otlp = await startOtlpReceiver();
    endpoint = await startEndpoint();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        STRIPE_EMULATOR_PORT: String(await freePort()),
        STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET,
        STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
        JWT_SECRET: TEST_JWT_SECRET,
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        RATE_LIMIT_ENABLED: 'false',
        LOG_LEVEL: 'warn',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'connect-service-trace-test',
        // Export every 100 ms instead of every 5 s, so the test does not wait on the batch.
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      'the traced service to be ready',
      async () => {
        if (child!.exitCode !== null) throw new Error(`the service exited; its output:\n${output}`);
        return (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 45_000 },
    );
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await endpoint?.close();
    await otlp?.close();
    await db?.drop();
  });

  it('shows intake, job, handler, its Stripe call, fan-out and delivery in one trace', async () => {
    const tenantId = uniqueTenant('trace');
    const onboarding = await fetch(`${base}/connect/accounts/${tenantId}/onboarding`, {
      method: 'POST',
      headers: { ...platform(), 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'express',
        country: 'US',
        return_url: 'https://platform.example/done',
        refresh_url: 'https://platform.example/again',
      }),
    });
    expect(onboarding.status).toBe(201);
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    const [{ stripe_account_id: accountId }] = (
      await sql.query<{ stripe_account_id: string }>(
        `SELECT stripe_account_id FROM connect_accounts WHERE tenant_id = $1`,
        [tenantId],
      )
    ).rows;
    await sql.end();
    const sub = await fetch(`${base}/connect/event-subscriptions`, {
      method: 'POST',
      headers: { ...platform(), 'content-type': 'application/json' },
      body: JSON.stringify({
        url: endpoint.url,
        event_types: ['connect.webhook.received'],
        tenant_id: tenantId,
      }),
    });
    expect(sub.status).toBe(201);

    const event = eventBody({
      type: 'account.updated',
      account: accountId,
      object: { id: accountId, object: 'account' },
    });
    const eventId = event.id as string;
    expect((await deliver(base, event)).status).toBe(200);

    const delivery = await eventually(
      'the delivery of connect.webhook.received for the event',
      async () =>
        endpoint.received.find(
          (r) => (r.body.data as { stripe_event_id?: string }).stripe_event_id === eventId,
        ),
      { timeoutMs: 30_000 },
    );
    // The intake's trace is the one whose spans carry the event id (the request span, then the handler's).
    const traceId = await eventually(
      'a span naming the event',
      async () => otlp.spans.find((s) => s.attributes['stripe.event_id'] === eventId)?.traceId,
    );
    const inTrace = () => otlp.spans.filter((s) => s.traceId === traceId);
    const deliverySpanOf = (spans: OtlpSpan[]) =>
      spans.find((s) => s.kind === SPAN_KIND.CLIENT && String(s.attributes['url.full']) === endpoint.url);
    // Parents end (and are exported) after their children: wait until the tree is whole, then look at it.
    await eventually(
      'the whole trace, the outbound delivery included',
      async () => {
        const spans = inTrace();
        const ids = new Set(spans.map((s) => s.spanId));
        return deliverySpanOf(spans) && spans.every((s) => !s.parentSpanId || ids.has(s.parentSpanId));
      },
      { timeoutMs: 15_000 },
    ).catch(() => undefined); // the assertions below say what is missing
    const spans = inTrace();
    const deliverySpan = deliverySpanOf(spans);
    expect(deliverySpan).toBeDefined();
    const names = spans.map((s) => s.name);
    // One root: the intake request as the service received it.
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots).toHaveLength(1);
    expect(roots[0].kind).toBe(SPAN_KIND.SERVER);
    expect(roots[0].attributes['http.route'] ?? roots[0].attributes['url.path']).toBe('/connect/webhooks');
    // Every other span hangs off a span of the same trace: one connected tree, not spans that share an id by luck.
    const ids = new Set(spans.map((s) => s.spanId));
    expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => s.name)).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining([
        'job webhooks.process-stripe-event',
        'webhook handler account.updated',
        'job events.fan-out-to-subscriptions',
        'job events.deliver-to-endpoint',
      ]),
    );
    for (const name of [
      'job webhooks.process-stripe-event',
      'job events.fan-out-to-subscriptions',
      'job events.deliver-to-endpoint',
    ])
      expect(spans.find((s) => s.name === name)?.kind).toBe(SPAN_KIND.CONSUMER);
    // The handler re-reads the account from Stripe (the emulator here) through the stripe SDK's node:http client.
    expect(
      spans.some(
        (s) =>
          s.kind === SPAN_KIND.CLIENT &&
          String(s.attributes['url.full'] ?? s.attributes['http.url']).includes(`/v1/accounts/${accountId}`),
      ),
    ).toBe(true);
    // PostgreSQL statements of the job are in the trace too.
    expect(
      spans.some(
        (s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql',
      ),
    ).toBe(true);
    // The endpoint received the trace context: the same trace, parented on the delivery's client span.
    expect(delivery.headers.traceparent).toBe(`00-${traceId}-${deliverySpan!.spanId}-01`);
  });

  it('starts no SDK and patches nothing without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const probe = `
      require(${JSON.stringify(join(DIST, 'tracing/tracing.js'))});
      const loaded = Object.keys(require.cache).some((k) => k.includes('@opentelemetry/sdk-node'));
      const patched = Boolean(require('node:http').request.__wrapped || require('pg').Client.prototype.query.__wrapped);
      process.stdout.write(JSON.stringify({ loaded, patched }));`;
    const run = (env: Record<string, string>) =>
      JSON.parse(
        spawnSync(process.execPath, ['-e', probe], {
          env: { PATH: process.env.PATH, ...env },
          encoding: 'utf8',
        }).stdout,
      ) as { loaded: boolean; patched: boolean };
    expect(run({})).toEqual({ loaded: false, patched: false });
    // The same probe with an endpoint: the SDK loads and patches, so the check above can fail.
    expect(run({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toEqual({
      loaded: true,
      patched: true,
    });
  });
});

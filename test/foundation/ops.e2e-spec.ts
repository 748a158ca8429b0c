import { Body, Controller, Module, Post } from '@nestjs/common';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { Public } from '@app/auth';
import { AppModule } from '../../apps/connect-service/src/app.module';
import { bootTestApp, TestApp } from '../support/app';
import { ErrorCode } from '@app/common';
import { api } from '../support/http';

class EchoDto {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  count!: number;
}

/** A probe route that exercises the real global pipeline (validation, body parser, limits, filter). */
@Controller('test-probe')
class ProbeController {
  @Public()
  @Post('echo')
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }

  @Public()
  @Post('boom')
  boom(): never {
    throw new Error('secret internals: password=hunter2');
  }
}

@Module({ imports: [AppModule], controllers: [ProbeController] })
class ProbeAppModule {}

describe('ops surface and error bodies (full AppModule on Fastify)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootTestApp(
      { BODY_LIMIT_BYTES: '2048', REDIS_URL: process.env.TEST_REDIS_URL },
      ProbeAppModule,
    );
  });
  afterAll(async () => t?.close());

  it('answers liveness and readiness', async () => {
    const live = await api(t)('GET', '/health/live');
    expect(live.status).toBe(200);
    const ready = await api(t)('GET', '/health/ready');
    expect(ready.status).toBe(200);
    const body = ready.body;
    expect(body.status).toBe('ok');
    expect(body.details.database.status).toBe('up');
    expect(body.details.migrations).toEqual({ status: 'up', pending: 0 });
    if (process.env.TEST_REDIS_URL) expect(body.details.redis.status).toBe('up');
  });

  it('serves Swagger UI and an OpenAPI 3 document with bearer auth declared', async () => {
    const ui = await api(t)('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
    const doc = (await api(t)('GET', '/docs-json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.api_key).toMatchObject({ type: 'apiKey', name: 'X-API-Key' });
    expect(doc.components.schemas.ServiceErrorBody).toBeDefined();
    const get = doc.paths['/connect/accounts/{tenantId}'].get;
    expect(get.security).toEqual(expect.arrayContaining([{ bearer: [] }]));
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
  });

  it('documents, for every endpoint, a success body, its auth, and the ServiceErrors it can answer', async () => {
    const doc = (await api(t)('GET', '/docs-json')).body;
    const problems: string[] = [];
    for (const [path, item] of Object.entries<
      Record<string, { security?: unknown[]; responses: Record<string, any> }>
    >(doc.paths)) {
      if (path.startsWith('/test-probe')) continue;
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses);
        if (!statuses.some((s) => s.startsWith('2') || s === '302'))
          problems.push(`${where}: no success response`);
        const expected = ['500', ...(path.startsWith('/health') || path === '/metrics' ? [] : ['429'])];
        if (op.security?.length) expected.push('401', '403');
        for (const status of expected)
          if (!op.responses[status]) problems.push(`${where}: ${status} undocumented`);
        for (const status of statuses.filter(
          (s) => Number(s) >= 400 && !(path.startsWith('/health') && s === '503'),
        )) {
          const json = op.responses[status].content?.['application/json'];
          if (!json?.schema || !(json.example || json.examples))
            problems.push(`${where}: ${status} has no ServiceError example`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('exposes HTTP request metrics by route, method and status, and process metrics', async () => {
    await api(t)('GET', '/health/live');
    await api(t)('GET', '/no/such/route');
    const res = await api(t)('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.raw).toMatch(
      /http_request_duration_seconds_count\{route="\/health\/live",method="GET",status="200"\} \d+/,
    );
    expect(res.raw).toMatch(
      /http_request_duration_seconds_count\{route="unmatched",method="GET",status="404"\} \d+/,
    );
    expect(res.raw).toContain('process_cpu_user_seconds_total');
  });

  it.each([
    ['http_request_duration_seconds', 'histogram'],
    ['connect_events_emitted_total', 'counter'],
    ['connect_event_delivery_attempts_total', 'counter'],
    ['connect_event_outbox_backlog', 'gauge'],
    ['connect_payments_total', 'counter'],
    ['connect_payment_volume_minor_total', 'counter'],
    ['connect_payment_fees_minor_total', 'counter'],
    ['stripe_webhook_events_total', 'counter'],
    ['stripe_webhook_signature_failures_total', 'counter'],
    ['stripe_webhook_processing_lag_seconds', 'histogram'],
    ['stripe_webhook_inbox_backlog', 'gauge'],
    ['stripe_requests_total', 'counter'],
    ['stripe_request_retries_total', 'counter'],
    ['stripe_request_duration_seconds', 'histogram'],
    ['stripe_circuit_state', 'gauge'],
    ['connect_metrics_scrape_errors_total', 'counter'],
    ['connect_event_deliveries_pending', 'gauge'],
    ['connect_event_delivery_oldest_pending_seconds', 'gauge'],
    ['stripe_webhook_inbox_events', 'gauge'],
    ['stripe_webhook_inbox_oldest_waiting_seconds', 'gauge'],
    ['connect_job_queue_pending', 'gauge'],
    ['connect_accounts', 'gauge'],
    ['connect_ready', 'gauge'],
    ['connect_readiness_changes_total', 'counter'],
  ])('serves the metric %s (%s) at /metrics', async (name, type) => {
    const res = await api(t)('GET', '/metrics');
    expect(res.raw).toContain(`# TYPE ${name} ${type}\n`);
  });

  it('serves the backlog gauges with their labels', async () => {
    const res = await api(t)('GET', '/metrics');
    expect(res.raw).toMatch(/^stripe_webhook_inbox_backlog\{status="received"\} \d+$/m);
    expect(res.raw).toMatch(/^connect_event_outbox_backlog \d+$/m);
  });

  it('answers an unknown route with a 404 ServiceError', async () => {
    const res = await api(t)('GET', '/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      code: ErrorCode.RouteNotFound,
      message: expect.any(String),
      http_status: 404,
    });
  });

  it('names every failing field on a validation error and rejects unknown fields', async () => {
    const res = await api(t)('POST', '/test-probe/echo', { body: { count: 99, extra: 1 } });
    expect(res.status).toBe(400);
    const body = res.body;
    expect(body.code).toBe(ErrorCode.ValidationFailed);
    expect(body.http_status).toBe(400);
    const fields = body.details.fields.map((f: { field: string }) => f.field).sort();
    expect(fields).toEqual(['count', 'extra', 'name']);
    const ok = await api(t)('POST', '/test-probe/echo', { body: { name: 'a', count: 2 } });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ name: 'a', count: 2 });
  });

  it('answers malformed JSON with 400, an oversized body with 413, a wrong media type with 415', async () => {
    const bad = await api(t)('POST', '/test-probe/echo', {
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: ErrorCode.MalformedRequest, http_status: 400 });

    const big = await api(t)('POST', '/test-probe/echo', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(4096), count: 1 }),
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: ErrorCode.PayloadTooLarge, http_status: 413 });

    const media = await api(t)('POST', '/test-probe/echo', {
      headers: { 'content-type': 'application/x-yaml' },
      body: 'name: a',
    });
    expect(media.status).toBe(415);
    expect(media.body).toMatchObject({ code: ErrorCode.UnsupportedMediaType, http_status: 415 });
  });

  it('hides unexpected errors behind a 500 ServiceError with an error_id', async () => {
    const res = await api(t)('POST', '/test-probe/boom');
    expect(res.status).toBe(500);
    const body = res.body;
    expect(body).toEqual({
      code: ErrorCode.Internal,
      message: 'Internal error',
      http_status: 500,
      error_id: expect.any(String),
    });
    expect(res.raw).not.toContain('hunter2');
    expect(res.raw).not.toContain('at ');
  });

  it('sets security headers', async () => {
    const res = await api(t)('GET', '/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });
});

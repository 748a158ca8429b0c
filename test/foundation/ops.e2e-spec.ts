import { Body, Controller, Module, Post } from '@nestjs/common';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { Public } from '@app/auth';
import { AppModule } from '../../apps/connect-service/src/app.module';
import { bootTestApp, TestApp } from '../utils/test-app';
import { ErrorCode } from '@app/common';

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
    const live = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    const body = ready.json();
    expect(body.status).toBe('ok');
    expect(body.details.database.status).toBe('up');
    expect(body.details.migrations).toEqual({ status: 'up', pending: 0 });
    if (process.env.TEST_REDIS_URL) expect(body.details.redis.status).toBe('up');
  });

  it('serves Swagger UI and an OpenAPI 3 document with bearer auth declared', async () => {
    const ui = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
    const doc = (await t.app.inject({ method: 'GET', url: '/docs-json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.api_key).toMatchObject({ type: 'apiKey', name: 'X-API-Key' });
    expect(doc.components.schemas.ServiceErrorBody).toBeDefined();
    const get = doc.paths['/connect/accounts/{tenantId}'].get;
    expect(get.security).toEqual(expect.arrayContaining([{ bearer: [] }]));
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
  });

  it('documents, for every endpoint, a success body, its auth, and the ServiceErrors it can answer', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs-json' })).json();
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
    await t.app.inject({ method: 'GET', url: '/health/live' });
    await t.app.inject({ method: 'GET', url: '/no/such/route' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{route="\/health\/live",method="GET",status="200"\} \d+/,
    );
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{route="unmatched",method="GET",status="404"\} \d+/,
    );
    expect(res.body).toContain('process_cpu_user_seconds_total');
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
  ])('serves the metric %s (%s) at /metrics', async (name, type) => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toContain(`# TYPE ${name} ${type}\n`);
  });

  it('serves the backlog gauges with their labels', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/^stripe_webhook_inbox_backlog\{status="received"\} \d+$/m);
    expect(res.body).toMatch(/^connect_event_outbox_backlog \d+$/m);
  });

  it('answers an unknown route with a 404 ServiceError', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/no/such/route' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      code: ErrorCode.RouteNotFound,
      message: expect.any(String),
      http_status: 404,
    });
  });

  it('names every failing field on a validation error and rejects unknown fields', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test-probe/echo',
      payload: { count: 99, extra: 1 },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe(ErrorCode.ValidationFailed);
    expect(body.http_status).toBe(400);
    const fields = body.details.fields.map((f: { field: string }) => f.field).sort();
    expect(fields).toEqual(['count', 'extra', 'name']);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/test-probe/echo',
      payload: { name: 'a', count: 2 },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ name: 'a', count: 2 });
  });

  it('answers malformed JSON with 400, an oversized body with 413, a wrong media type with 415', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/test-probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: ErrorCode.MalformedRequest, http_status: 400 });

    const big = await t.app.inject({
      method: 'POST',
      url: '/test-probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(4096), count: 1 }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: ErrorCode.PayloadTooLarge, http_status: 413 });

    const media = await t.app.inject({
      method: 'POST',
      url: '/test-probe/echo',
      headers: { 'content-type': 'application/x-yaml' },
      payload: 'name: a',
    });
    expect(media.statusCode).toBe(415);
    expect(media.json()).toMatchObject({ code: ErrorCode.UnsupportedMediaType, http_status: 415 });
  });

  it('hides unexpected errors behind a 500 ServiceError with an error_id', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/test-probe/boom' });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body).toEqual({
      code: ErrorCode.Internal,
      message: 'Internal error',
      http_status: 500,
      error_id: expect.any(String),
    });
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('at ');
  });

  it('sets security headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });
});

import { randomUUID } from 'node:crypto';
import { Logger as NestLogger, Type } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import {
  ERROR_CODES,
  ErrorCode,
  ServiceErrorBody,
  ServiceExceptionFilter,
  createValidationPipe,
} from '@app/common';
import { serviceConfig } from '@app/config';
import { AppModule } from './app.module';
import { AppLogger } from './logging/app-logger';
import { PINO_LOGGER } from './logging/logger.module';
import { registerRequestLog } from './logging/request-log';
import { registerHttpMetrics } from './metrics/http-metrics';
import { registerErrorTracking } from './error-tracking/error-tracking.module';
import { registerDirectRoutes } from './direct-routes';
import { registerSecurityHeaders } from './security/security-headers';
import { registerSecurityHooks } from './security/security-hooks';
import { WebhooksController } from './webhooks/webhooks.controller';

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Connect Service')
    .setDescription(
      'Stripe Connect middleware for multi-tenant platforms. Every error body is a ServiceError ' +
        '`{code, message, details?, http_status}`; codes: ' +
        Object.entries(ERROR_CODES)
          .map(([code, e]) => `${code} (${e.status} ${e.name})`)
          .join(', ') +
        '.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'JWT with sub, tenant_id, roles, scope, exp',
    })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api_key')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ServiceErrorBody] });
  documentCommonErrors(document);
  return document;
}

/**
 * Answers every endpoint can give whatever its own decorators say: 429 from the rate limiter (not on the
 * unlimited probes, metrics and docs) and 500 for the unexpected. Added here once instead of on every handler.
 */
function documentCommonErrors(document: OpenAPIObject): void {
  const common: [string, ErrorCode, string][] = [
    ['429', ErrorCode.RateLimited, 'Rate limited: see the Retry-After and RateLimit-* headers.'],
    ['500', ErrorCode.Internal, 'Unexpected error: error_id identifies it in the logs.'],
  ];
  for (const [path, item] of Object.entries(document.paths)) {
    const unlimited = path.startsWith('/health') || path === '/metrics';
    for (const op of Object.values(item) as { responses?: Record<string, unknown> }[]) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      for (const [status, code, description] of common) {
        if (op.responses[status] || (unlimited && status === '429')) continue;
        op.responses[status] = {
          description: `${code} ${ERROR_CODES[code].name}: ${description}`,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/ServiceErrorBody' },
              example: { code, message: ERROR_CODES[code].description, http_status: Number(status) },
            },
          },
        };
      }
    }
  }
}

/**
 * Answers 503 RequestTimeout once a request has run REQUEST_TIMEOUT_MS (Fastify's requestTimeout only bounds
 * receiving the request): a caller never waits longer on a saturated pool or a slow dependency. The handler is not
 * cancelled; whatever it commits stays consistent (payments resolve through their idempotency key).
 */
function registerRequestDeadline(fastify: FastifyInstance, ms: number): void {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  fastify.addHook('onRequest', (request, reply, done) => {
    const timer = setTimeout(() => {
      if (reply.sent || reply.raw.destroyed) return;
      const body: ServiceErrorBody = {
        code: ErrorCode.RequestTimeout,
        message: `The request took longer than ${ms} ms; retry later`,
        http_status: ERROR_CODES[ErrorCode.RequestTimeout].status,
      };
      void reply.code(body.http_status).header('content-type', 'application/json; charset=utf-8').send(body);
    }, ms);
    timers.set(request, timer);
    done();
  });
  const clear = (request: object, _reply: unknown, done: () => void) => {
    clearTimeout(timers.get(request));
    done();
  };
  fastify.addHook('onResponse', clear);
  fastify.addHook('onRequestAbort', (request, done) => clear(request, null, done));
}

/**
 * Builds the Fastify application exactly as production runs it; main.ts and the e2e suites both use this
 * (so tests exercise the real pipes, filters, body limits and hooks).
 */
export async function createApp(
  options: { logger?: boolean; module?: Type<unknown> } = {},
): Promise<NestFastifyApplication> {
  const bodyLimit = Number(process.env.BODY_LIMIT_BYTES ?? 1024 * 1024);
  const requestTimeout = Number(process.env.REQUEST_TIMEOUT_MS ?? 30_000);
  const adapter = new FastifyAdapter({
    bodyLimit,
    requestTimeout,
    // Stripe signs the exact bytes; Nest keeps them in request.rawBody (rawBody: true below).
    trustProxy: true,
    logger: false,
    // One id per request, taken from the caller's X-Request-Id when it is sane, echoed back, and put on every
    // log line written while it is served.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // While draining, requests already on a kept-alive connection are served (with Connection: close) rather than
    // answered Fastify's own non-ServiceError 503; the listener is closed, so no new connection arrives.
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(options.module ?? AppModule, adapter, {
    rawBody: true,
    bufferLogs: true,
    abortOnError: false,
  });
  if (options.logger !== false) app.useLogger(app.get(AppLogger));
  else app.useLogger(false);

  const svc = app.get<ConfigType<typeof serviceConfig>>(serviceConfig.KEY);
  const fastify = app.getHttpAdapter().getInstance();
  registerHttpMetrics(fastify);
  registerErrorTracking(fastify);
  // Stripe's deliveries are the one high-volume public route: served without Nest's per-request pipeline.
  // Looked up when first served: an app built from a module without webhooks never registers the route.
  let webhooks: WebhooksController | undefined;
  registerDirectRoutes(fastify, [
    {
      method: 'POST',
      url: '/connect/webhooks',
      handler: (request, reply) => {
        webhooks ??= app.get<WebhooksController>(WebhooksController, { strict: false });
        return webhooks.intake(request, reply);
      },
      response: {
        200: {
          type: 'object',
          properties: { received: { type: 'boolean' }, duplicate: { type: 'boolean' } },
          required: ['received', 'duplicate'],
        },
      },
    },
  ]);
  if (options.logger !== false) registerRequestLog(fastify, app.get(PINO_LOGGER), svc.logRequestSampleRate);
  registerSecurityHooks(app);
  registerRequestDeadline(fastify, requestTimeout);
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!/^[\w.-]{1,128}$/.test(request.id)) request.id = randomUUID();
    void reply.header('x-request-id', request.id);
    done();
  });
  registerSecurityHeaders(fastify, {
    // Swagger UI needs inline scripts and styles; everything else keeps helmet's defaults.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      },
    },
  });
  app.enableCors({ origin: svc.corsOrigins.length ? svc.corsOrigins : false });
  app.useGlobalFilters(new ServiceExceptionFilter());
  app.useGlobalPipes(createValidationPipe());

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
  NestLogger.flush();
  return app;
}

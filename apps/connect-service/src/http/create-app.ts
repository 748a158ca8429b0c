import { Logger as NestLogger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { ServiceExceptionFilter, createValidationPipe } from '@app/common';
import { serviceConfig } from '@app/config';
import { AppModule } from '../app.module';
import { AppLogger } from '../logging/app-logger';
import { PINO_LOGGER } from '../logging/logger.module';
import { registerRequestLog } from '../logging/request-log';
import { registerHttpMetrics } from '../metrics/http-metrics';
import { registerErrorTracking } from '../error-tracking/error-tracking.module';
import { registerSecurityHeaders } from '../security/security-headers';
import { registerSecurityHooks } from '../security/security-hooks';
import { registerCachedReads } from './cached-reads';
import { registerDirectRoutes } from './direct-routes';
import { registerRequestDeadline, registerRequestId } from './hooks';
import { registerInputBoundary } from './input-boundary';
import { buildOpenApiDocument } from './openapi';
import { serverOptions } from './server-options';

export { buildOpenApiDocument } from './openapi';

/**
 * Builds the Fastify application exactly as production runs it; main.ts and the e2e suites both use this
 * (so tests exercise the real pipes, filters, body limits and hooks).
 */
export async function createApp(
  options: { logger?: boolean; module?: Type<unknown> } = {},
): Promise<NestFastifyApplication> {
  // Read before Nest boots (the adapter is built first): the same namespace Nest injects, validated at boot.
  const svc = serviceConfig();
  const adapter = new FastifyAdapter(serverOptions(svc));
  const app = await NestFactory.create<NestFastifyApplication>(options.module ?? AppModule, adapter, {
    rawBody: true,
    bufferLogs: true,
    abortOnError: false,
  });
  if (options.logger !== false) app.useLogger(app.get(AppLogger));
  else app.useLogger(false);

  const fastify = app.getHttpAdapter().getInstance();
  registerHttpMetrics(fastify);
  registerErrorTracking(fastify);
  if (options.logger !== false) registerRequestLog(fastify, app.get(PINO_LOGGER), svc.logRequestSampleRate);
  registerSecurityHooks(app);
  registerRequestDeadline(fastify, svc.requestTimeoutMs);
  registerRequestId(fastify);
  registerInputBoundary(fastify);
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
  // Stripe's deliveries are the one high-volume public route: served without Nest's per-request pipeline.
  const direct = registerDirectRoutes(app, fastify);
  // The warm-cache hits of the hottest authenticated reads too; everything else about them stays Nest's.
  await registerCachedReads(app, fastify);

  const document = buildOpenApiDocument(app, direct);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
  NestLogger.flush();
  return app;
}

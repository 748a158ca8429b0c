import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { serviceConfig } from '@app/config';
import { logTransport } from './log-transport';

/**
 * Everything that may hold a secret is redacted before a log line is written: auth headers, cookies, API keys,
 * tokens, secrets, client secrets: a log reader must never be able to act as the platform.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.api_key',
  '*.secretKey',
  '*.authorization',
  '*.clientSecret',
  '*.apiKey',
  '*.card_number',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["stripe-signature"]',
  'err.config.headers',
];

/**
 * Where log lines go. In tests it is process.stdout itself, so a suite can capture (spy on) every line and prove
 * no secret is ever written; elsewhere pino's default asynchronous stdout writer, which is faster.
 */
function withDestination<T>(options: T, nodeEnv: string): T | [T, DestinationStream] {
  return nodeEnv === 'test' ? [options, process.stdout] : options;
}

@Module({
  imports: [
    PinoLoggerModule.forRootAsync({
      inject: [serviceConfig.KEY],
      useFactory: (svc: ConfigType<typeof serviceConfig>) => ({
        pinoHttp: withDestination(
          {
            level: svc.logLevel,
            transport: logTransport(svc.nodeEnv, process.stdout.isTTY === true),
            redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
            // Fastify assigns request.id (from X-Request-Id when sane, see create-app.ts); pino-http reuses it.
            genReqId: (req: IncomingMessage) =>
              String((req as IncomingMessage & { id?: unknown }).id ?? randomUUID()),
            customProps: () => ({ service: 'connect-service' }),
            // Only method and path of a request: query strings can carry OAuth codes and states.
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                path: req.url.split('?')[0],
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
            autoLogging: {
              ignore: (req: IncomingMessage) => req.url === '/health/live' || req.url === '/metrics',
            },
          },
          svc.nodeEnv,
        ),
      }),
    }),
  ],
})
export class LoggingModule {}

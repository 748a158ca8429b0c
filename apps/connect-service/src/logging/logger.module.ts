import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import pino, { DestinationStream, Logger as PinoLogger, LoggerOptions } from 'pino';
import { serviceConfig } from '@app/config';
import { currentRequest } from '../audit/request-context';
import { AppLogger } from './app-logger';
import { logTransport } from './log-transport';
import { requestFields } from './request-log';

/**
 * Everything that may hold a secret is redacted before a log line is written: auth headers, cookies, API keys,
 * tokens, secrets, client secrets: a log reader must never be able to act as the platform. Request lines carry no
 * headers at all (see request-log.ts); these paths guard the objects the code logs.
 */
export const REDACT_PATHS = [
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
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  '*.headers["stripe-signature"]',
  'err.config.headers',
];

/** The root pino logger every line goes through. */
export const PINO_LOGGER = Symbol('PINO_LOGGER');

export function pinoOptions(
  svc: Pick<ConfigType<typeof serviceConfig>, 'logLevel' | 'nodeEnv'>,
): LoggerOptions {
  return {
    level: svc.logLevel,
    transport: logTransport(svc.nodeEnv, process.stdout.isTTY === true),
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    base: { pid: process.pid, hostname: hostname(), service: 'connect-service' },
    // A line written while a request is served names it (id, method, path) without a child logger per request.
    mixin: () => {
      const request = currentRequest();
      return request ? { req: requestFields(request) } : {};
    },
  };
}

/**
 * Where log lines go. In tests it is process.stdout itself, so a suite can capture (spy on) every line and prove
 * no secret is ever written; elsewhere pino's default stdout writer.
 */
function destination(nodeEnv: string): DestinationStream | undefined {
  return nodeEnv === 'test' ? process.stdout : undefined;
}

@Module({
  providers: [
    {
      provide: PINO_LOGGER,
      inject: [serviceConfig.KEY],
      useFactory: (svc: ConfigType<typeof serviceConfig>): PinoLogger => {
        const options = pinoOptions(svc);
        const dest = options.transport ? undefined : destination(svc.nodeEnv);
        return dest ? pino(options, dest) : pino(options);
      },
    },
    { provide: AppLogger, inject: [PINO_LOGGER], useFactory: (root: PinoLogger) => new AppLogger(root) },
  ],
  exports: [PINO_LOGGER, AppLogger],
})
export class LoggingModule {}

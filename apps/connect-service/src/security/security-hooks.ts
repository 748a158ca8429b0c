import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { registerAuditFailureHooks } from '../audit/audit-failure.hooks';
import { AuditLogService } from '../audit/audit-log.service';
import { registerRequestContext } from '../audit/request-context';

/** Fastify hooks of the security features; createApp calls this before Nest registers its routes. */
export function registerSecurityHooks(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  registerRequestContext(fastify);
  registerAuditFailureHooks(fastify, app.get(AuditLogService));
}

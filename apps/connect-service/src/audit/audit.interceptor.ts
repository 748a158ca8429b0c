import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, Observable, tap, throwError } from 'rxjs';
import { ErrorCode, ServiceException } from '@app/common';
import { AUDIT_KEY, AuditOptions } from './audit-metadata';
import { AuditInput, AuditLogService } from './audit-log.service';
import { ContextRequest } from './request-context';

function ownString(container: unknown, key: string): string | undefined {
  if (!container || typeof container !== 'object' || !Object.prototype.hasOwnProperty.call(container, key))
    return undefined;
  const v = (container as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

const NOT_ATTEMPTS = new Set<ErrorCode>([
  ErrorCode.ValidationFailed,
  ErrorCode.MalformedRequest,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnsupportedMediaType,
]);

/** Writes the audit row of every `@Audit(...)` route; one metadata lookup on the others. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditLogService,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const opts = this.reflector.get<AuditOptions | undefined>(AUDIT_KEY, ctx.getHandler());
    if (!opts) return next.handle();
    const req = ctx.switchToHttp().getRequest<ContextRequest>();
    const tenantOf = (result?: unknown): string | null =>
      ownString(req.params, 'tenantId') ??
      ownString(req.body, 'tenant_id') ??
      ownString(result, 'tenant_id') ??
      req.user?.tenantId ??
      null;
    const targetOf = (result?: unknown): string | null =>
      ownString(result, 'id') ?? ownString(req.params, 'id') ?? ownString(req.params, 'tenantId') ?? null;
    const success = (result: unknown): AuditInput => ({
      action: opts.action,
      targetType: opts.targetType,
      targetId: targetOf(result),
      tenantId: tenantOf(result),
    });
    // A service may write this row in the transaction of its change (AuditLogService.successRowSql) instead.
    this.audit.expectSuccess(req, success);
    return next.handle().pipe(
      tap((result) => {
        if (!this.audit.successWritten(req)) this.audit.recordDetached(success(result), req);
      }),
      catchError((err: unknown) => {
        // A request refused as malformed attempted nothing; recording it would only let bad input fill the log.
        if (err instanceof ServiceException && NOT_ATTEMPTS.has(err.code)) return throwError(() => err);
        this.audit.recordDetached(
          {
            action: opts.action,
            outcome: 'failure',
            targetType: opts.targetType,
            targetId: targetOf(),
            tenantId: tenantOf(),
            details: { code: err instanceof ServiceException ? err.code : ErrorCode.Internal },
          },
          req,
        );
        return throwError(() => err);
      }),
    );
  }
}

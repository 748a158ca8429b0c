import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ServiceException, ErrorCode } from '@app/common';
import { inspectBody, MAX_BODY_DEPTH } from './card-number.util';

/** Stripe's signed webhook payloads are verified byte for byte and contain no PANs; they are not inspected. */
const SKIPPED_ROUTES = new Set(['POST /connect/webhooks']);

/** The guard's check alone, for the direct cached reads: no card number nor over-deep nesting in query or body. */
export function assertNoCardData(req: Pick<FastifyRequest, 'query' | 'body'>): void {
  const query = req.query && typeof req.query === 'object' ? inspectBody(req.query) : undefined;
  const body = req.body !== undefined && !Buffer.isBuffer(req.body) ? inspectBody(req.body) : undefined;
  if (body?.tooDeep || query?.tooDeep) {
    throw new ServiceException(
      ErrorCode.MalformedRequest,
      `Malformed request body: nested deeper than ${MAX_BODY_DEPTH} levels`,
    );
  }
  const fields = [...(query?.cardFields ?? []), ...(body?.cardFields ?? [])];
  if (fields.length) {
    throw new ServiceException(ErrorCode.ValidationFailed, 'Validation failed', {
      fields: fields.map((field) => ({
        field,
        errors: ['must not contain a card number: this service never accepts card data'],
      })),
    });
  }
}

/**
 * We never handle card numbers (that would put the service in PCI scope): a request whose JSON body or query holds a
 * Luhn-valid 13–19 digit number anywhere is refused with ValidationFailed naming the field, before pipes or handlers
 * see it. The value is never echoed or logged. The same walk refuses bodies nested deeper than MAX_BODY_DEPTH
 * (MalformedRequest), which would overflow the validation pipe's recursion. The last global guard, so unauthenticated
 * callers still get 401; a guard rather than an interceptor because an app-wide interceptor puts an rxjs pipeline
 * around every request.
 */
@Injectable()
export class CardNumberGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() === 'http') {
      const req = ctx.switchToHttp().getRequest<FastifyRequest>();
      if (!SKIPPED_ROUTES.has(`${req.method} ${req.routeOptions.url ?? ''}`)) {
        assertNoCardData(req);
      }
    }
    return true;
  }
}

import type { FastifyInstance } from 'fastify';
import { AuditAction } from './audit-actions';
import { AuditLogService } from './audit-log.service';
import { ContextRequest } from './request-context';
import { ErrorCode } from '@app/common';

/** Per client IP and minute: past this, refused requests are counted but not each written (no write amplification). */
const MAX_ROWS_PER_IP_PER_MINUTE = 20;

const WEBHOOK_ROUTE = '/connect/webhooks';

function codeOf(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || payload.length > 4096) return undefined;
  try {
    const code = (JSON.parse(payload) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Authentication (401), authorization (403) and webhook signature (400 WebhookInvalid) failures are decided by
 * guards and the webhook controller before any service runs, so they are audited where every response passes:
 * Fastify's onSend. The INSERT is not awaited by the response.
 */
export function registerAuditFailureHooks(fastify: FastifyInstance, audit: AuditLogService): void {
  const budget = new Map<string, { minute: number; count: number }>();

  const allowed = (ip: string): { ok: boolean; suppressed: number } => {
    const minute = Math.floor(Date.now() / 60_000);
    if (budget.size > 10_000) budget.clear();
    const b = budget.get(ip);
    if (!b || b.minute !== minute) {
      const suppressed = b && b.count > MAX_ROWS_PER_IP_PER_MINUTE ? b.count - MAX_ROWS_PER_IP_PER_MINUTE : 0;
      budget.set(ip, { minute, count: 1 });
      return { ok: true, suppressed };
    }
    b.count += 1;
    return { ok: b.count <= MAX_ROWS_PER_IP_PER_MINUTE, suppressed: 0 };
  };

  fastify.addHook('onSend', (request, reply, payload, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url;
    let action: AuditAction | null = null;
    let code: string | undefined;
    if (status === 401) action = 'auth.authentication_failed';
    else if (status === 403) action = 'auth.authorization_failed';
    else if (status === 400 && route === WEBHOOK_ROUTE && request.method === 'POST') {
      code = codeOf(payload);
      if (code === ErrorCode.WebhookInvalid) action = 'webhook.signature_failed';
    }
    if (action) {
      const { ok, suppressed } = allowed(request.ip);
      if (ok) {
        const req = request as ContextRequest;
        audit.recordDetached(
          {
            action,
            outcome: 'failure',
            actor: action === 'webhook.signature_failed' ? { id: null, type: 'stripe' } : undefined,
            tenantId: req.user?.tenantId ?? null,
            targetType: 'route',
            targetId: `${request.method} ${route ?? request.url.split('?')[0]}`,
            details: {
              code: code ?? codeOf(payload) ?? null,
              status,
              ...(suppressed ? { suppressed_in_previous_minute: suppressed } : {}),
            },
          },
          req,
        );
      }
    }
    done(null, payload);
  });
}

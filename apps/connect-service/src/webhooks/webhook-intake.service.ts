import { Injectable, Logger, RawBodyRequest } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServiceException, ErrorCode } from '@app/common';
import { StripeWebhookEventSource } from '@app/database';
import { StripeEvent, StripeGateway } from '@app/stripe-gateway';
import { findUnstorableText } from '@app/common';
import { UnverifiedRequestBudget } from '../security/unverified-request-budget';
import { WebhookReceiptDto } from './dto/webhook-receipt.dto';
import { WebhookInboxService } from './webhook-inbox.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSecrets } from './webhook-secrets.service';

const EMPTY = Buffer.alloc(0);

/** Why a verified payload is still not a Stripe Event we can store (https://docs.stripe.com/api/events/object). */
function notAnEvent(event: unknown): string | null {
  if (event === null || typeof event !== 'object' || Array.isArray(event))
    return 'the payload is not an object';
  const e = event as Record<string, unknown>;
  if (typeof e.id !== 'string' || e.id === '') return 'the event has no id';
  if (typeof e.type !== 'string' || e.type === '') return 'the event has no type';
  const text = findUnstorableText(event);
  if (text) return 'the event holds text that cannot be stored (NUL or a lone surrogate)';
  return null;
}

/**
 * Stripe's deliveries: verify the signature, check the payload is an Event, then store it with its processing job.
 * Served straight from Fastify (http/direct-routes.ts): the route is public and carries its own proof, so this must
 * not rely on guards or interceptors.
 */
@Injectable()
export class WebhookIntake {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly gateway: StripeGateway,
    private readonly secrets: WebhookSecrets,
    private readonly inbox: WebhookInboxService,
    private readonly metrics: WebhookMetrics,
    private readonly unverified: UnverifiedRequestBudget,
  ) {}

  async accept(req: RawBodyRequest<FastifyRequest>, reply: FastifyReply): Promise<WebhookReceiptDto> {
    const raw = req.rawBody ?? EMPTY;
    const signature = req.headers['stripe-signature'];
    let event: StripeEvent;
    try {
      event = this.gateway.verifyWebhook(
        raw,
        typeof signature === 'string' ? signature : undefined,
        this.secrets.all(),
      );
      const why = notAnEvent(event);
      // Signed with our secret but nothing Stripe sends: refused and audited like a bad signature, stored nowhere.
      if (why)
        throw new ServiceException(ErrorCode.WebhookInvalid, `Not a Stripe event: ${why}`, {
          reason: 'not_an_event',
        });
    } catch (err) {
      if (err instanceof ServiceException && err.code === ErrorCode.WebhookInvalid) {
        const reason = String(err.details?.reason ?? 'unknown');
        this.metrics.signatureFailures.inc({ reason });
        this.logger.warn({ reason, ip: req.ip, bytes: raw.length }, `Webhook refused: ${err.message}`);
        await this.unverified.spend(req.ip, reply);
      }
      throw err;
    }
    const { duplicate } = await this.inbox.accept(
      event,
      raw.toString('utf8'),
      StripeWebhookEventSource.Webhook,
    );
    return { received: true, duplicate };
  }
}

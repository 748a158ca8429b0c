import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ErrorCode, ServiceException } from '@app/common';
import { StripeEvent, StripeGateway } from '@app/stripe-gateway';
import type { ThinEnvelope } from './thin-events.intake';
import {
  WebhookHandlerContext,
  WebhookHandlerOutcome,
  WebhookHandlerRegistry,
} from './webhook-handler.registry';

/** Stripe answers 404 for an event (or object) it no longer keeps: events live 30 days. */
export function isGone(err: unknown): boolean {
  if (!(err instanceof ServiceException) || err.code !== ErrorCode.StripeRequestFailed) return false;
  return (err.details as { stripe?: { status?: number } } | undefined)?.stripe?.status === 404;
}

/**
 * v1 events delivered thin (`v1.account.updated`, https://docs.stripe.com/api/v2/core/event-destinations/event-types):
 * the related object is fetched with the event's context and handed, as the v1 event it stands for, to the v1
 * handlers already registered for that type.
 */
@Injectable()
export class ThinV1EventHandlers implements OnApplicationBootstrap {
  constructor(
    private readonly registry: WebhookHandlerRegistry,
    private readonly gateway: StripeGateway,
  ) {}

  /** After every module registered its v1 handlers (onModuleInit). */
  onApplicationBootstrap(): void {
    const v1Types = this.registry.registeredTypes().filter((t) => !/^v[12]\./.test(t));
    this.registry.register(
      v1Types.map((t) => `v1.${t}`),
      (ctx) => this.dispatchAsV1(ctx),
    );
  }

  async dispatchAsV1(ctx: WebhookHandlerContext): Promise<WebhookHandlerOutcome> {
    const thin = ctx.event as unknown as ThinEnvelope;
    let object: Record<string, unknown> = {};
    if (thin.related_object?.url) {
      try {
        object = await this.gateway.v2.fetchRelatedObject(thin.related_object.url, thin.context);
      } catch (err) {
        if (isGone(err)) return 'gone';
        throw err;
      }
    }
    const event = {
      id: thin.id,
      object: 'event',
      type: thin.type.slice('v1.'.length),
      account: thin.account ?? undefined,
      created: thin.created,
      livemode: thin.livemode,
      api_version: null,
      pending_webhooks: 0,
      request: null,
      data: { object },
    } as unknown as StripeEvent;
    return (await this.registry.dispatch({ ...ctx, event })) ?? 'skipped';
  }
}

import { Logger, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { answerServiceError, ErrorCode, errorResponse } from '@app/common';
import { WebhookReceiptDto } from '../webhooks/dto/webhook-receipt.dto';
import { WebhookIntake } from '../webhooks/webhook-intake.service';
import type { DocumentedRoute } from './openapi';

/** A hot public route served straight from Fastify, without Nest's per-request pipeline, and documented from here. */
export interface DirectRoute extends DocumentedRoute {
  /** The provider that serves it; the route exists only in an app that has it. */
  provider: Type<unknown>;
  handler: (provider: never, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** Response schemas: Fastify then serialises the answer with a compiled serialiser. */
  response?: FastifySchema['response'];
}

const logger = new Logger('Errors');

/** Stripe's deliveries: the one high-volume public route, which checks its own proof (the signature). */
export const WEBHOOK_ROUTE: DirectRoute = {
  method: 'POST',
  url: '/connect/webhooks',
  provider: WebhookIntake,
  handler: (intake: WebhookIntake, request, reply) => intake.accept(request, reply),
  response: {
    200: {
      type: 'object',
      properties: { received: { type: 'boolean' }, duplicate: { type: 'boolean' } },
      required: ['received', 'duplicate'],
    },
  },
  models: [WebhookReceiptDto],
  operation: {
    description:
      'Public, protected by the `Stripe-Signature` header (HMAC of the raw body, 300 s tolerance). Answers 200 only ' +
      'once the event is durably in the inbox with its processing job; 5xx makes Stripe retry. A delivery whose ' +
      'signature verifies is never rate-limited; only requests that fail verification or are unsigned spend the ' +
      'per-IP budget of public routes (over it: 429 instead of 400).',
    operationId: 'WebhooksController_receive',
    parameters: [
      {
        name: 'stripe-signature',
        in: 'header',
        required: true,
        schema: { type: 'string', example: 't=1764130000,v1=5257a869e7ec...' },
      },
    ],
    requestBody: {
      required: true,
      description: 'A Stripe Event, exactly as Stripe signed it',
      content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
    },
    responses: {
      200: {
        description: '',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookReceiptDto' } } },
      },
      400: errorResponse(400, [ErrorCode.WebhookInvalid, ErrorCode.MalformedRequest]),
      413: errorResponse(413, [ErrorCode.PayloadTooLarge]),
      429: errorResponse(429, [ErrorCode.RateLimited]),
      503: errorResponse(503, [ErrorCode.ServiceUnavailable]),
    },
    summary: "Stripe's webhook deliveries (account and Connect endpoints)",
    tags: ['webhooks'],
  },
};

export const DIRECT_ROUTES: DirectRoute[] = [WEBHOOK_ROUTE];

/**
 * Registers the direct routes the app has a provider for. Fastify's hooks (request id, deadline, input boundary,
 * security headers, metrics, request log, audit of refusals) run as for every route; guards, interceptors and pipes
 * do not, and errors are answered as ServiceErrors exactly as the global filter does.
 */
export function registerDirectRoutes(
  app: NestFastifyApplication,
  fastify: FastifyInstance,
  routes: DirectRoute[] = DIRECT_ROUTES,
): DirectRoute[] {
  const served: DirectRoute[] = [];
  for (const route of routes) {
    let provider: unknown;
    try {
      provider = app.get(route.provider, { strict: false });
    } catch {
      continue;
    }
    fastify.route({
      method: route.method as 'POST',
      url: route.url,
      ...(route.response ? { schema: { response: route.response } } : {}),
      handler: async (request, reply) => {
        try {
          return await route.handler(provider as never, request, reply);
        } catch (err) {
          answerServiceError(err, request, reply, logger);
          return reply;
        }
      },
    });
    served.push(route);
  }
  return served;
}

import type { FastifyInstance } from 'fastify';
import { findUnstorableText } from '@app/common';

/** Routes whose body is checked by the route itself once it is authenticated (a signed Stripe event). */
const OWN_BODY_CHECK = new Set(['/connect/webhooks']);

/**
 * One boundary for every route, Nest's and the direct ones: text PostgreSQL cannot store or that is not Unicode is
 * refused as ValidationFailed naming the field, in the path, the query and the body, before any handler sees it.
 */
export function registerInputBoundary(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    const own = OWN_BODY_CHECK.has(request.routeOptions.url ?? '');
    done(
      findUnstorableText(request.params) ??
        findUnstorableText(request.query) ??
        (own ? null : findUnstorableText(request.body)) ??
        undefined,
    );
  });
}

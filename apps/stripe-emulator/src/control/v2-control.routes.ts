import { FastifyInstance } from 'fastify';
import { StateHolder } from '../context';
import { ONBOARDING_DONE_PATH } from '../resources/v2-account-links.resource';

/** Control routes for the v2 surface (JSON in and out, no auth, like the rest of /_emulator). */
export function registerV2ControlRoutes(app: FastifyInstance, holder: StateHolder): void {
  void holder;
  app.get(ONBOARDING_DONE_PATH, async (_req, reply) =>
    reply.type('text/plain').send('Onboarding complete. You can close this page.'),
  );
}

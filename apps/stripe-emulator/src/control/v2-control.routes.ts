import { FastifyInstance } from 'fastify';
import { StateHolder } from '../context';
import { claimAccountSession } from '../resources/account-sessions.resource';
import { parseRequirementsBody, setRequirements } from '../resources/requirements-control';
import { ONBOARDING_DONE_PATH } from '../resources/v2-account-links.resource';
import { StripeApiError } from '../errors';

type Body = Record<string, unknown>;

function bodyOf(body: unknown): Body {
  return typeof body === 'object' && body !== null ? (body as Body) : {};
}

/** Control routes for the v2 surface (JSON in and out, no auth, like the rest of /_emulator). */
export function registerV2ControlRoutes(app: FastifyInstance, holder: StateHolder): void {
  app.get(ONBOARDING_DONE_PATH, async (_req, reply) =>
    reply.type('text/plain').send('Onboarding complete. You can close this page.'),
  );

  app.post('/_emulator/accounts/:id/requirements', async (req, reply) => {
    const { id } = req.params as { id: string };
    const account = holder.state.store.entry('account', id)?.obj;
    if (!account)
      return reply
        .code(404)
        .send({ error: { type: 'invalid_request_error', message: `No such account: '${id}'` } });
    try {
      return setRequirements(holder.state, account, parseRequirementsBody(bodyOf(req.body)));
    } catch (e) {
      if (e instanceof StripeApiError) return reply.code(e.status).send(e.body);
      throw e;
    }
  });

  // What Connect.js does with an Account Session's client_secret: it works once, until it expires.
  app.post('/_emulator/account_sessions/claim', async (req, reply) => {
    const secret = bodyOf(req.body).client_secret;
    const claimed = typeof secret === 'string' ? claimAccountSession(holder.state, secret) : 'unknown';
    if (typeof claimed === 'object') return claimed;
    const message = {
      unknown: 'No such account session.',
      used: 'This account session has already been used.',
      expired: 'This account session has expired.',
    }[claimed];
    return reply
      .code(claimed === 'unknown' ? 404 : 410)
      .send({ error: { type: 'invalid_request_error', code: `account_session_${claimed}`, message } });
  });
}

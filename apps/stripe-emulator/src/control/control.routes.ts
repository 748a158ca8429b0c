import { FastifyInstance, FastifyReply } from 'fastify';
import { DEFAULT_SETTINGS, EmulatorSettings, StateHolder } from '../context';
import { StripeApiError } from '../errors';
import { visitAccountLink } from '../resources/account-links.resource';
import { verify } from '../resources/accounts.resource';
import { VerificationAction } from '../resources/account-objects';
import { closeDispute, createDispute, expireDispute } from '../resources/disputes.resource';
import { parseCapabilityChanges, setCapabilities } from '../resources/capabilities';
import { advancePayout, PayoutStage, runPayouts } from '../resources/payouts.resource';
import { destinationsFor } from '../resources/v2-events';
import { forget, setFields } from './drift';
import { FaultSpec } from './faults';

/**
 * The control API for tests and demos: JSON in and out, no auth. It is the emulator's own, not Stripe's:
 * verification changes, faults, OAuth outcomes, webhook ordering, reset.
 */
type Body = Record<string, unknown>;

function bad(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: { type: 'invalid_request_error', message } });
}

function bodyOf(body: unknown): Body {
  return typeof body === 'object' && body !== null ? (body as Body) : {};
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ error: { type: 'invalid_request_error', message } });
}

function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof StripeApiError) return reply.code(e.status).send(e.body);
  throw e;
}

export function registerControlRoutes(app: FastifyInstance, holder: StateHolder): void {
  app.get('/_emulator/health', async () => ({ ok: true }));

  app.post('/_emulator/reset', async () => {
    holder.reset();
    return { ok: true };
  });

  app.post('/_emulator/faults', async (req, reply) => {
    try {
      holder.state.faults.add(bodyOf(req.body) as unknown as FaultSpec);
    } catch (e) {
      return bad(reply, (e as Error).message);
    }
    return { ok: true, faults: holder.state.faults.list() };
  });

  app.delete('/_emulator/faults', async () => {
    holder.state.faults.clear();
    return { ok: true };
  });

  app.get('/_emulator/requests', async (req) => {
    const q = req.query as { path?: string; method?: string };
    const data = holder.state.requests
      .toArray()
      .filter(
        (r) => (!q.path || r.path.startsWith(q.path)) && (!q.method || r.method === q.method.toUpperCase()),
      );
    return { data };
  });

  app.post('/_emulator/accounts/:id/verification', async (req, reply) => {
    const { id } = req.params as { id: string };
    const body = bodyOf(req.body);
    const action = body.action as VerificationAction;
    if (!['complete', 'restrict', 'reject', 'require_more'].includes(action)) {
      return bad(reply, 'action must be one of complete, restrict, reject, require_more');
    }
    const account = holder.state.store.entry('account', id)?.obj;
    if (!account) return notFound(reply, `No such account: '${id}'`);
    verify(holder.state, account, action, typeof body.reason === 'string' ? body.reason : undefined);
    return account;
  });

  app.post('/_emulator/accounts/:id/capabilities', async (req, reply) => {
    const { id } = req.params as { id: string };
    const account = holder.state.store.entry('account', id)?.obj;
    if (!account) return notFound(reply, `No such account: '${id}'`);
    try {
      return setCapabilities(holder.state, account, parseCapabilityChanges(bodyOf(req.body)));
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.post('/_emulator/accounts/:id/payouts/run', async (req, reply) => {
    const body = bodyOf(req.body);
    try {
      const until = (typeof body.until === 'string' ? body.until : 'reconciled') as PayoutStage;
      return { payouts: runPayouts(holder.state, (req.params as { id: string }).id, until) };
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.post('/_emulator/payouts/:id/advance', async (req, reply) => {
    const { id } = req.params as { id: string };
    const entry = holder.state.store.entry('payout', id);
    if (!entry) return notFound(reply, `No such payout: '${id}'`);
    const body = bodyOf(req.body);
    try {
      const failureCode = typeof body.failure_code === 'string' ? body.failure_code : undefined;
      return advancePayout(holder.state, entry.owner, entry.obj, body.to as PayoutStage, failureCode);
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.post('/_emulator/objects/:id', async (req, reply) => {
    try {
      return setFields(holder.state, (req.params as { id: string }).id, bodyOf(req.body).set);
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.delete('/_emulator/objects/:id', async (req, reply) => {
    try {
      return forget(holder.state, (req.params as { id: string }).id);
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.get('/_emulator/settings', async () => holder.state.settings);

  app.post('/_emulator/settings', async (req, reply) => {
    const body = bodyOf(req.body);
    const next: EmulatorSettings = { ...holder.state.settings };
    for (const [key, value] of Object.entries(body)) {
      if (!(key in DEFAULT_SETTINGS)) return bad(reply, `unknown setting: ${key}`);
      const expected = typeof DEFAULT_SETTINGS[key as keyof EmulatorSettings];
      if (typeof value !== expected || (expected === 'number' && !(Number(value) >= 0))) {
        return bad(reply, `${key} must be a ${expected === 'number' ? 'number >= 0' : expected}`);
      }
      (next as unknown as Record<string, unknown>)[key] = value;
    }
    Object.assign(holder.state.settings, next);
    return holder.state.settings;
  });

  app.post('/_emulator/oauth/next', async (req, reply) => {
    const body = bodyOf(req.body);
    if (body.action !== 'approve' && body.action !== 'deny')
      return bad(reply, "action must be 'approve' or 'deny'");
    holder.state.nextOAuth = {
      action: body.action,
      account: typeof body.account === 'object' && body.account !== null ? (body.account as Body) : undefined,
    };
    return { ok: true };
  });

  app.get('/_emulator/onboard/:token', async (req, reply) => {
    const location = visitAccountLink(holder.state, (req.params as { token: string }).token);
    if (!location) return reply.code(404).type('text/plain').send('This account link does not exist.');
    return reply.redirect(location, 302);
  });

  app.post('/_emulator/charges/:id/dispute', async (req, reply) => {
    try {
      const body = bodyOf(req.body);
      return createDispute(holder.state, (req.params as { id: string }).id, {
        reason: typeof body.reason === 'string' ? body.reason : undefined,
        amount: typeof body.amount === 'number' ? body.amount : undefined,
        inquiry: body.inquiry === true,
      });
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.post('/_emulator/disputes/:id/close', async (req, reply) => {
    const outcome = bodyOf(req.body).outcome;
    if (outcome !== 'won' && outcome !== 'lost') return bad(reply, "outcome must be 'won' or 'lost'");
    try {
      return closeDispute(holder.state, (req.params as { id: string }).id, outcome);
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.post('/_emulator/disputes/:id/expire', async (req, reply) => {
    try {
      return expireDispute(holder.state, (req.params as { id: string }).id);
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.post('/_emulator/webhooks/pause', async () => {
    holder.state.webhooks.pause();
    return { ok: true };
  });

  app.post('/_emulator/webhooks/resume', async (req) => {
    const body = bodyOf(req.body);
    if (body.discard === true)
      return { ok: true, delivered: 0, discarded: await holder.state.webhooks.resume('discard') };
    const delivered = await holder.state.webhooks.resume(body.order === 'reverse' ? 'reverse' : 'fifo');
    return { ok: true, delivered };
  });

  app.post('/_emulator/events/:id/redeliver', async (req, reply) => {
    const body = bodyOf(req.body);
    const times = typeof body.times === 'number' && body.times > 0 ? Math.min(body.times, 100) : 1;
    const sent = await holder.state.webhooks.redeliver(
      (req.params as { id: string }).id,
      times,
      body.concurrent === true,
      // A v2 event (evt_test_) goes again to the destinations that enable it.
      (event) => destinationsFor(holder.state, String(event.type), (event.context as string | null) ?? null),
    );
    if (sent < 0)
      return reply.code(404).send({ error: { type: 'invalid_request_error', message: 'No such event' } });
    return { ok: true, sent };
  });

  app.get('/_emulator/webhooks/deliveries', async (req) => {
    const q = req.query as { event_id?: string; type?: string };
    const data = holder.state.webhooks.log
      .toArray()
      .filter((d) => (!q.event_id || d.event_id === q.event_id) && (!q.type || d.event_type === q.type));
    return { data };
  });
}

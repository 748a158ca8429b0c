import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseQs } from 'qs';
import { defaultFaultBody, FaultSpec } from './control/faults';
import { registerControlRoutes } from './control/control.routes';
import { EmulatorState, HandlerResult, RequestContext, Route, StateHolder } from './context';
import { invalidRequest, StripeApiError } from './errors';
import { newId } from './ids';
import { Params } from './params';
import { expandBody, expandPaths } from './expand';
import { accountLinksRoutes } from './resources/account-links.resource';
import { applicationFeesRoutes } from './resources/application-fees.resource';
import { accountsRoutes } from './resources/accounts.resource';
import { balanceRoutes } from './resources/balance.resource';
import { billingRoutes } from './resources/billing.resource';
import { eventsRoutes } from './resources/events.resource';
import { oauthRoutes } from './resources/oauth.resource';
import { paymentIntentsRoutes } from './resources/payment-intents.resource';
import { payoutsRoutes } from './resources/payouts.resource';
import { manualPayoutsRoutes } from './resources/manual-payouts.resource';
import { disputesRoutes } from './resources/disputes.resource';
import { refundsRoutes } from './resources/refunds.resource';
import { transfersRoutes } from './resources/transfers.resource';
import { webhookEndpointsRoutes } from './resources/webhook-endpoints.resource';
import { v2AccountsRoutes } from './resources/v2-accounts.resource';
import { v2AccountLinksRoutes } from './resources/v2-account-links.resource';
import { accountSessionsRoutes } from './resources/account-sessions.resource';
import { v2EventsRoutes } from './resources/v2-events';
import { eventDestinationsRoutes } from './resources/event-destinations.resource';
import { registerV2ControlRoutes } from './control/v2-control.routes';
import { accountCapabilitiesRoutes } from './resources/account-capabilities.resource';
import { SpecValidator } from './spec-validator';

const QS_OPTIONS = { arrayLimit: 1000, depth: 10, parameterLimit: 10_000 };

export function allRoutes(): Route[] {
  return [
    ...accountsRoutes(),
    ...oauthRoutes(),
    ...accountLinksRoutes(),
    ...webhookEndpointsRoutes(),
    ...paymentIntentsRoutes(),
    ...refundsRoutes(),
    ...balanceRoutes(),
    ...applicationFeesRoutes(),
    ...transfersRoutes(),
    ...payoutsRoutes(),
    ...manualPayoutsRoutes(),
    ...disputesRoutes(),
    ...eventsRoutes(),
    ...billingRoutes(),
    ...v2AccountsRoutes(),
    ...v2AccountLinksRoutes(),
    ...accountSessionsRoutes(),
    ...accountCapabilitiesRoutes(),
    ...v2EventsRoutes(),
    ...eventDestinationsRoutes(),
  ];
}

/** Stripe masks keys in errors: the prefix and the last four characters. */
export function maskKey(key: string): string {
  if (key.length <= 12) return '*'.repeat(key.length);
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`;
}

function unauthorized(message: string): StripeApiError {
  return new StripeApiError(401, { error: { type: 'invalid_request_error', message } });
}

/** Bearer or Basic (key as user) auth with a test secret key; returns the key. https://docs.stripe.com/api/authentication */
function apiKeyOf(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (!header) {
    throw unauthorized(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  const [scheme, value = ''] = header.split(' ', 2);
  let key = value.trim();
  if (/^basic$/i.test(scheme)) key = Buffer.from(key, 'base64').toString('utf8').split(':')[0];
  else if (!/^bearer$/i.test(scheme)) throw unauthorized(`Invalid API Key provided: ${maskKey(key)}`);
  if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key))
    throw unauthorized(`Invalid API Key provided: ${maskKey(key)}`);
  return key;
}

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The account a request acts as: `Stripe-Account`, else the last segment of `Stripe-Context` (https://docs.stripe.com/context). */
function actingAccount(req: FastifyRequest): string | null {
  return header(req, 'stripe-account') ?? header(req, 'stripe-context')?.split('/').pop() ?? null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createServer(
  holder: StateHolder,
  validator: SpecValidator | null,
  onRoute?: (route: { method: string; url: string }) => void,
): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 1024 * 1024 });
  // Lists every route as Fastify registers it (the parameter table's generator and its tests read this).
  if (onRoute) {
    app.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) onRoute({ method, url: r.url });
    });
  }

  // Keep the raw form body: qs parses Stripe's brackets, and idempotency compares the exact parameters.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (!body) return done(null, {});
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      (e as Error & { statusCode?: number }).statusCode = 400;
      done(e as Error);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  for (const route of allRoutes()) {
    app.route({
      method: route.method,
      url: route.path,
      handler: (req, reply) => handle(holder, validator, route, req, reply),
    });
  }
  registerControlRoutes(app, holder);
  registerV2ControlRoutes(app, holder);

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    holder.state.requests.push({
      method: req.method,
      path,
      status: 404,
      idempotency_key: header(req, 'idempotency-key'),
      stripe_account: header(req, 'stripe-account'),
      at: Date.now(),
    });
    void reply.code(404).send({
      error: {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${req.method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      },
    });
  });
  return app;
}

function faultResult(fault: FaultSpec): HandlerResult {
  const status = fault.status as number;
  return { status, body: fault.body ?? defaultFaultBody(status), headers: fault.headers };
}

async function handle(
  holder: StateHolder,
  validator: SpecValidator | null,
  route: Route,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const emu = holder.state;
  const [path, query = ''] = req.url.split('?', 2);
  const requestId = newId('req', 14);
  const idempotencyKey = header(req, 'idempotency-key');
  const stripeAccount = actingAccount(req);

  const fault = emu.faults.take(req.method, path);
  let result: HandlerResult;
  if (fault && fault.mode === 'before') {
    if (fault.delay_ms) await sleep(fault.delay_ms);
    result = fault.status
      ? faultResult(fault)
      : await processRequest(emu, validator, route, req, path, query, requestId, async () => undefined);
  } else {
    // The delay runs inside processing so an idempotency key stays "in flight" (409) until the answer leaves.
    const hold = fault?.delay_ms ? () => sleep(fault.delay_ms as number) : async () => undefined;
    result = await processRequest(emu, validator, route, req, path, query, requestId, hold);
    if (fault?.status) result = faultResult(fault);
  }
  const status = result.status ?? 200;
  emu.requests.push({
    method: req.method,
    path,
    status,
    idempotency_key: idempotencyKey,
    stripe_account: stripeAccount,
    at: Date.now(),
  });
  if (reply.raw.destroyed) return;
  void reply.code(status).header('request-id', requestId);
  if (idempotencyKey) void reply.header('idempotency-key', idempotencyKey);
  for (const [k, v] of Object.entries(result.headers ?? {})) void reply.header(k, v);
  if (result.body === undefined) await reply.send();
  else await reply.type('application/json').send(JSON.stringify(result.body));
}

async function processRequest(
  emu: EmulatorState,
  validator: SpecValidator | null,
  route: Route,
  req: FastifyRequest,
  path: string,
  query: string,
  requestId: string,
  hold: () => Promise<void>,
): Promise<HandlerResult> {
  try {
    const ctx = buildContext(emu, route, req, path, query, requestId);
    if (validator && path.startsWith('/v1/')) validator.validate(req.method, path, ctx.params);
    let result: HandlerResult;
    if (req.method !== 'POST' || !ctx.idempotencyKey) {
      result = await run(route, ctx);
      await hold();
    } else {
      result = await runIdempotent(
        route,
        ctx,
        apiKeyOrNone(req),
        typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? ''),
        hold,
      );
    }
    const paths = path.startsWith('/v1/') && (result.status ?? 200) < 400 ? expandPaths(ctx.params) : [];
    return paths.length ? { ...result, body: expandBody(emu.store, ctx.owner, result.body, paths) } : result;
  } catch (e) {
    return errorResult(e, emu);
  }
}

function apiKeyOrNone(req: FastifyRequest): string {
  try {
    return apiKeyOf(req);
  } catch {
    return '';
  }
}

function errorResult(e: unknown, emu: EmulatorState): HandlerResult {
  if (e instanceof StripeApiError) return { status: e.status, body: e.body, headers: e.headers };
  emu.options.logger(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return {
    status: 500,
    body: { error: { type: 'api_error', message: 'An unknown error occurred in the emulator.' } },
  };
}

async function run(route: Route, ctx: RequestContext): Promise<HandlerResult> {
  try {
    return await route.handler(ctx);
  } catch (e) {
    return errorResult(e, ctx.emu);
  }
}

/**
 * Stripe's idempotency: scope (api key, Stripe-Account, key); the first result (even an error) is replayed;
 * other parameters → 400 idempotency_error; a concurrent twin → 409. Only requests that reached the endpoint
 * with valid parameters are saved (not auth or parameter failures). https://docs.stripe.com/api/idempotent_requests
 */
async function runIdempotent(
  route: Route,
  ctx: RequestContext,
  apiKey: string,
  rawBody: string,
  hold: () => Promise<void>,
): Promise<HandlerResult> {
  const key = ctx.idempotencyKey as string;
  if (key.length > 255) {
    throw invalidRequest('Idempotency-Key must be at most 255 characters long.', {
      param: 'Idempotency-Key',
    });
  }
  const scope = `${apiKey}\u0000${ctx.stripeAccount ?? ''}\u0000${key}`;
  const fingerprint = `${ctx.method} ${ctx.path}\u0000${rawBody}`;
  const existing = ctx.emu.idempotency.get(scope);
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      throw new StripeApiError(400, {
        error: {
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        },
      });
    }
    if (!existing.done) {
      throw new StripeApiError(409, {
        error: {
          type: 'invalid_request_error',
          code: 'idempotency_key_in_use',
          message:
            'There is currently another in-progress request using this Stripe-Account + Idempotency-Key. Retry this request later.',
        },
      });
    }
    return { status: existing.status, body: existing.body, headers: { 'idempotent-replayed': 'true' } };
  }
  const entry = { fingerprint, done: false, status: 0, body: undefined as unknown };
  ctx.emu.idempotency.set(scope, entry);
  const result = await run(route, ctx);
  await hold();
  if (isParameterError(result)) {
    // Stripe saves no result for a request whose parameters failed validation: the key stays free.
    ctx.emu.idempotency.delete(scope);
    return result;
  }
  Object.assign(entry, { done: true, status: result.status ?? 200, body: result.body });
  return result;
}

function isParameterError(result: HandlerResult): boolean {
  const error = (result.body as { error?: { code?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : '';
  return result.status === 400 && (code.startsWith('parameter_') || code === 'invalid_fields');
}

function buildContext(
  emu: EmulatorState,
  route: Route,
  req: FastifyRequest,
  path: string,
  query: string,
  requestId: string,
): RequestContext {
  const raw = req.method === 'POST' && typeof req.body === 'string' ? req.body : query;
  // v2 sends JSON bodies (https://docs.stripe.com/api-v2-overview); queries stay form-style.
  const json = req.method === 'POST' && path.startsWith('/v2/') && typeof req.body === 'object';
  const params = (json ? (req.body ?? {}) : parseQs(raw, QS_OPTIONS)) as Params;
  const stripeAccount = actingAccount(req);
  let owner = emu.platformId;
  if (route.auth !== 'none') {
    const key = apiKeyOf(req);
    const token = emu.oauthTokens.get(key);
    if (token) {
      if (token.revoked || token.kind !== 'access' || emu.deauthorized.has(token.account)) {
        throw unauthorized(`Expired API Key provided: ${maskKey(key)}`);
      }
      owner = token.account;
    }
    if (stripeAccount && stripeAccount !== owner) {
      if (owner !== emu.platformId || !emu.connectedAccount(stripeAccount)) {
        throw new StripeApiError(403, {
          error: {
            type: 'invalid_request_error',
            code: 'account_invalid',
            message: `The provided key '${maskKey(key)}' does not have access to account '${stripeAccount}' (or that account does not exist). Application access may have been revoked.`,
          },
        });
      }
      owner = stripeAccount;
    }
  }
  return {
    emu,
    method: req.method,
    path,
    params,
    pathParams: (req.params ?? {}) as Record<string, string>,
    owner,
    isPlatform: owner === emu.platformId,
    stripeAccount,
    requestId,
    idempotencyKey: header(req, 'idempotency-key'),
    apiVersion: header(req, 'stripe-version'),
    baseUrl: `${req.protocol}://${req.headers.host ?? 'localhost'}`,
  };
}

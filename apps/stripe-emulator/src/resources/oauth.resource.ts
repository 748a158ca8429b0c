import { Route } from '../context';
import { invalidRequest, oauthError } from '../errors';
import { newId, randomToken } from '../ids';
import { optString } from '../params';
import { buildVerifiedAccount } from './account-objects';

/**
 * Connect OAuth for Standard accounts (https://docs.stripe.com/connect/oauth-reference).
 * authorize auto-approves (or denies when the control API says so) and grants a fresh, verified account.
 */
export function oauthRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/oauth/authorize',
      auth: 'none',
      handler: (ctx) => {
        const q = ctx.params;
        const redirectUri = optString(q, 'redirect_uri');
        const clientId = optString(q, 'client_id');
        if (optString(q, 'response_type') !== 'code') {
          throw invalidRequest('response_type must be "code"', { param: 'response_type' });
        }
        if (!clientId) throw invalidRequest('Missing required param: client_id.', { param: 'client_id' });
        if (!redirectUri) {
          throw invalidRequest('The emulator has no registered redirect URI: pass redirect_uri.', {
            param: 'redirect_uri',
          });
        }
        const state = optString(q, 'state');
        const scope = optString(q, 'scope') ?? 'read_only';
        const next = ctx.emu.nextOAuth;
        ctx.emu.nextOAuth = null;
        const target = new URL(redirectUri);
        if (state !== undefined) target.searchParams.set('state', state);
        if (next?.action === 'deny') {
          target.searchParams.set('error', 'access_denied');
          target.searchParams.set('error_description', 'The user denied your request');
          return { status: 302, headers: { location: target.toString() } };
        }
        const account = buildVerifiedAccount('standard', next?.account ?? {});
        ctx.emu.store.put('account', ctx.emu.platformId, account);
        const code = newId('ac', 32);
        ctx.emu.oauthCodes.set(code, { account: account.id, used: false, tokens: [], scope });
        ctx.emu.webhooks.emit(
          'account.application.authorized',
          { id: clientId, object: 'application', name: 'Emulated Platform' },
          account.id,
          { requestId: null, idempotencyKey: null },
        );
        target.searchParams.set('code', code);
        target.searchParams.set('scope', scope);
        return { status: 302, headers: { location: target.toString() } };
      },
    },
    {
      method: 'POST',
      path: '/oauth/token',
      handler: (ctx) => {
        const grantType = optString(ctx.params, 'grant_type');
        const issue = (account: string, scope: string, refreshToken?: string) => {
          const accessToken = `sk_test_${randomToken(32)}`;
          const refresh = refreshToken ?? `rt_${randomToken(32)}`;
          ctx.emu.oauthTokens.set(accessToken, { account, kind: 'access', revoked: false, scope });
          if (!refreshToken)
            ctx.emu.oauthTokens.set(refresh, { account, kind: 'refresh', revoked: false, scope });
          return {
            access_token: accessToken,
            livemode: false,
            refresh_token: refresh,
            scope,
            stripe_publishable_key: `pk_test_${randomToken(32)}`,
            stripe_user_id: account,
            token_type: 'bearer',
          };
        };
        if (grantType === 'authorization_code') {
          const code = optString(ctx.params, 'code');
          const grant = code ? ctx.emu.oauthCodes.get(code) : undefined;
          if (!code || !grant)
            throw oauthError('invalid_grant', `Authorization code does not exist: ${code ?? ''}`);
          if (grant.used) {
            // Stripe revokes what the first exchange issued when a code is replayed.
            for (const t of grant.tokens) {
              const token = ctx.emu.oauthTokens.get(t);
              if (token) token.revoked = true;
            }
            throw oauthError('invalid_grant', `Authorization code already used: ${code}`);
          }
          if (ctx.emu.deauthorized.has(grant.account)) {
            throw oauthError('invalid_grant', `Authorization code expired: ${code}`);
          }
          grant.used = true;
          const body = issue(grant.account, grant.scope);
          grant.tokens.push(body.access_token, body.refresh_token);
          return { body };
        }
        if (grantType === 'refresh_token') {
          const refresh = optString(ctx.params, 'refresh_token');
          const token = refresh ? ctx.emu.oauthTokens.get(refresh) : undefined;
          if (
            !refresh ||
            !token ||
            token.kind !== 'refresh' ||
            token.revoked ||
            ctx.emu.deauthorized.has(token.account)
          ) {
            throw oauthError('invalid_grant', `Invalid refresh token: ${refresh ?? ''}`);
          }
          return { body: issue(token.account, token.scope, refresh) };
        }
        throw oauthError('unsupported_grant_type', `Unsupported grant type: ${grantType ?? ''}`);
      },
    },
    {
      method: 'POST',
      path: '/oauth/deauthorize',
      handler: (ctx) => {
        const clientId = optString(ctx.params, 'client_id');
        const accountId = optString(ctx.params, 'stripe_user_id');
        if (!clientId) throw oauthError('invalid_request', 'Missing required param: client_id');
        if (!accountId || !ctx.emu.connectedAccount(accountId)) {
          throw oauthError(
            'invalid_client',
            `This application is not connected to stripe account ${accountId ?? ''}.`,
          );
        }
        ctx.emu.deauthorized.set(accountId, true);
        for (const [, token] of ctx.emu.oauthTokens.entries()) {
          if (token.account === accountId) token.revoked = true;
        }
        ctx.emu.webhooks.emit(
          'account.application.deauthorized',
          { id: clientId, object: 'application', name: 'Emulated Platform' },
          accountId,
          { requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey },
        );
        return { body: { stripe_user_id: accountId } };
      },
    },
  ];
}

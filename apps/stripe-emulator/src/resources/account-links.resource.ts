import { EmulatorState, Route } from '../context';
import { invalidRequest, resourceMissing } from '../errors';
import { nowSeconds, randomToken } from '../ids';
import { reqString } from '../params';
import { verify } from './accounts.resource';
import { emitLinkReturned } from './v2-account-links.resource';

/** Account links expire after 300 s and work once. https://docs.stripe.com/api/account_links/object */
const LINK_TTL_SECONDS = 300;

export function accountLinksRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/account_links',
      handler: (ctx) => {
        const accountId = reqString(ctx.params, 'account');
        const refreshUrl = reqString(ctx.params, 'refresh_url');
        const returnUrl = reqString(ctx.params, 'return_url');
        const type = reqString(ctx.params, 'type');
        if (!['account_onboarding', 'account_update'].includes(type)) {
          throw invalidRequest('Invalid type: must be one of account_onboarding, account_update', {
            param: 'type',
          });
        }
        if (!ctx.isPlatform || !ctx.emu.connectedAccount(accountId))
          throw resourceMissing('account', accountId, 'account');
        for (const [name, value] of [
          ['refresh_url', refreshUrl],
          ['return_url', returnUrl],
        ]) {
          if (!URL.canParse(value)) throw invalidRequest(`Not a valid URL`, { param: name });
        }
        const token = randomToken(32);
        const created = nowSeconds();
        const expiresAt = created + LINK_TTL_SECONDS;
        ctx.emu.accountLinks.set(token, {
          account: accountId,
          refreshUrl,
          returnUrl,
          expiresAt,
          used: false,
        });
        return {
          body: {
            object: 'account_link',
            created,
            expires_at: expiresAt,
            url: `${ctx.baseUrl}/_emulator/onboard/${token}`,
          },
        };
      },
    },
  ];
}

/** The "Stripe-hosted onboarding" a link opens: it completes onboarding at once and goes back to return_url. */
export function visitAccountLink(emu: EmulatorState, token: string): string | null {
  const link = emu.accountLinks.get(token);
  if (!link) return null;
  if (link.used || link.expiresAt < nowSeconds()) return link.refreshUrl;
  link.used = true;
  const account = emu.connectedAccount(link.account);
  if (!account) return link.refreshUrl;
  verify(emu, account, 'complete');
  if (link.v2UseCase) emitLinkReturned(emu, link);
  return link.returnUrl;
}

import { AccountLinkGrant, EmulatorState, Route } from '../context';
import { nowSeconds, randomToken } from '../ids';
import { isRecord } from '../params';
import { appliedConfigurations } from './v2-account-model';
import { v2Account } from './v2-accounts.resource';
import { emitV2Event } from './v2-events';
import { field, invalidField, iso, optEnum, reqStr } from './v2-common';

/**
 * v2 Account Links (https://docs.stripe.com/api/v2/core/account-links/create). They open the same
 * approve-by-itself onboarding page as v1 links (`/_emulator/onboard/:token`), live 300 s and work once.
 */
const LINK_TTL_SECONDS = 300;
const USE_CASES = ['account_onboarding', 'account_update'] as const;

/** Where a link without `return_url` lands once onboarding is done. */
export const ONBOARDING_DONE_PATH = '/_emulator/onboarding-complete';

export function v2AccountLinksRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v2/core/account_links',
      handler: (ctx) => {
        const accountId = reqStr(ctx.params, 'account');
        const type = optEnum(ctx.params, 'use_case.type', USE_CASES);
        if (!type) throw invalidField('use_case.type', 'use_case.type is required.');
        const options = field(ctx.params, `use_case.${type}`);
        if (!isRecord(options)) throw invalidField(`use_case.${type}`, `use_case.${type} is required.`);
        // Removed in 2026-09-30.endive: Stripe works out which configurations need onboarding.
        if (options.configurations !== undefined) {
          throw invalidField(
            `use_case.${type}.configurations`,
            'Received unknown parameter: configurations. Stripe determines which configurations require onboarding.',
          );
        }
        const refreshUrl = reqStr(ctx.params, `use_case.${type}.refresh_url`);
        const returnUrl = field(ctx.params, `use_case.${type}.return_url`);
        for (const [name, value] of [
          ['refresh_url', refreshUrl],
          ['return_url', returnUrl],
        ] as const) {
          if (value !== undefined && (typeof value !== 'string' || !URL.canParse(value)))
            throw invalidField(`use_case.${type}.${name}`, `use_case.${type}.${name} is not a valid URL.`);
        }
        const collection = field(ctx.params, `use_case.${type}.collection_options`);
        if (collection !== undefined) {
          optEnum(ctx.params, `use_case.${type}.collection_options.fields`, [
            'currently_due',
            'eventually_due',
          ]);
          optEnum(ctx.params, `use_case.${type}.collection_options.future_requirements`, ['include', 'omit']);
        }
        const { account, data } = v2Account(ctx, accountId);
        if (data.closed) throw invalidField('account', 'This account is closed.');
        const token = randomToken(32);
        const created = nowSeconds();
        const grant: AccountLinkGrant = {
          account: account.id,
          refreshUrl,
          returnUrl: typeof returnUrl === 'string' ? returnUrl : `${ctx.baseUrl}${ONBOARDING_DONE_PATH}`,
          expiresAt: created + LINK_TTL_SECONDS,
          used: false,
          v2UseCase: type,
        };
        ctx.emu.accountLinks.set(token, grant);
        return {
          body: {
            object: 'v2.core.account_link',
            account: account.id,
            created: iso(created * 1000),
            expires_at: iso(grant.expiresAt * 1000),
            livemode: false,
            url: `${ctx.baseUrl}/_emulator/onboard/${token}`,
            use_case: { type, [type]: options },
          },
        };
      },
    },
  ];
}

/** `v2.core.account_link.returned` once the account comes back from a v2 link. */
export function emitLinkReturned(emu: EmulatorState, link: AccountLinkGrant): void {
  const data = emu.v2Accounts.get(link.account);
  emitV2Event(emu, {
    type: 'v2.core.account_link.returned',
    context: link.account,
    data: {
      account_id: link.account,
      configurations: data ? appliedConfigurations(data) : [],
      use_case: link.v2UseCase,
    },
  });
}

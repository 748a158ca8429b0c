import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConnectAccountsRepository } from '../accounts/connect-accounts.repository';
import { PaymentRoutesRepository } from '../payments/payment-routes.repository';
import { TenantHints, tenantHintsOf } from './tenant-hints';

type ResolvableEvent = { account?: string | null; data?: { object?: unknown } };

/**
 * Which tenant an event concerns (the spec's `handleWebhook(tenantId, event)`): a connected account's event by its
 * `account`; a platform event through the object it concerns (our metadata, the destination account, or the
 * PaymentRoute of its PaymentIntent). Null: no tenant owns it (the event is kept as `unmatched`).
 */
@Injectable()
export class WebhookTenantResolver {
  constructor(
    private readonly accounts: ConnectAccountsRepository,
    private readonly routes: PaymentRoutesRepository,
  ) {}

  async resolve(manager: EntityManager, event: ResolvableEvent): Promise<string | null> {
    return (await this.resolveMany(manager, [event]))[0];
  }

  /** The same for a batch of events, in at most two queries whatever their number. */
  async resolveMany(manager: EntityManager, events: ResolvableEvent[]): Promise<Array<string | null>> {
    const hints = events.map((e) => tenantHintsOf(e));
    const accountIds = new Set<string>();
    for (const h of hints) for (const id of accountsToLookUp(h)) accountIds.add(id);
    const byAccount = new Map<string, string>();
    if (accountIds.size) {
      const rows = await this.accounts.tenantsOf(manager, [...accountIds]);
      for (const r of rows) byAccount.set(r.stripe_account_id, r.tenant_id);
    }
    // Several hints may match: the first in order of trust wins.
    const firstAccount = (ids: string[]) => ids.map((id) => byAccount.get(id)).find((t) => t) ?? null;
    const tenants = hints.map((h): string | null | undefined => {
      if (h.account) return firstAccount([h.account]);
      if (h.metadataTenantId) return h.metadataTenantId;
      const tenant = h.accountIds.length ? firstAccount(h.accountIds) : null;
      if (tenant) return tenant;
      return h.paymentIntentIds.length ? undefined : null;
    });

    const intents = new Set<string>();
    tenants.forEach((t, i) => {
      if (t === undefined) for (const id of hints[i].paymentIntentIds) intents.add(id);
    });
    if (!intents.size) return tenants.map((t) => t ?? null);
    const routes = await this.routes.tenantsByPaymentIntent(manager, [...intents]);
    return tenants.map((t, i) => {
      if (t !== undefined) return t;
      // The oldest route of any of the event's PaymentIntents (rows come ordered by created_at).
      const ids = new Set(hints[i].paymentIntentIds);
      return routes.find((r) => ids.has(r.stripe_payment_intent_id))?.tenant_id ?? null;
    });
  }
}

/** The connected accounts whose rows may decide the event's tenant. */
function accountsToLookUp(h: TenantHints): string[] {
  if (h.account) return [h.account];
  if (h.metadataTenantId) return [];
  return h.accountIds;
}

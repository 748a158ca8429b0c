import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { tenantHintsOf } from './tenant-hints';

/**
 * Which tenant an event concerns (the spec's `handleWebhook(tenantId, event)`): a connected account's event by its
 * `account`; a platform event through the object it concerns (our metadata, the destination account, or the
 * PaymentRoute of its PaymentIntent). Null: no tenant owns it (the event is kept as `unmatched`).
 */
@Injectable()
export class WebhookTenantResolver {
  async resolve(
    manager: EntityManager,
    event: { account?: string | null; data?: { object?: unknown } },
  ): Promise<string | null> {
    const hints = tenantHintsOf(event);
    if (hints.account) return this.byAccounts(manager, [hints.account]);
    if (hints.metadataTenantId) return hints.metadataTenantId;
    if (hints.accountIds.length) {
      const tenant = await this.byAccounts(manager, hints.accountIds);
      if (tenant) return tenant;
    }
    if (hints.paymentIntentIds.length) {
      const rows: Array<{ tenant_id: string }> = await manager.query(
        `SELECT tenant_id FROM payment_routes WHERE stripe_payment_intent_id = ANY($1) ORDER BY created_at LIMIT 1`,
        [hints.paymentIntentIds],
      );
      if (rows[0]) return rows[0].tenant_id;
    }
    return null;
  }

  private async byAccounts(manager: EntityManager, accountIds: string[]): Promise<string | null> {
    const rows: Array<{ tenant_id: string; stripe_account_id: string }> = await manager.query(
      `SELECT tenant_id, stripe_account_id FROM connect_accounts WHERE stripe_account_id = ANY($1)`,
      [accountIds],
    );
    // Several hints may match: the first in order of trust wins.
    for (const id of accountIds) {
      const hit = rows.find((r) => r.stripe_account_id === id);
      if (hit) return hit.tenant_id;
    }
    return null;
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ErrorCode, ServiceException } from '@app/common';
import { ConnectAccountEntity } from '@app/database';
import { StripeBalanceTransaction, StripeGateway, StripePayout } from '@app/stripe-gateway';
import { comparePayouts, PayoutDrift, payoutSumDrift } from './payout-reconciliation';
import { PayoutsRepository } from './payouts.repository';
import { PayoutsService } from './payouts.service';

export interface PayoutReconciliation {
  tenant_id: string;
  checked: number;
  drift: PayoutDrift[];
  healed: number;
}

/**
 * One tenant's payouts at Stripe against our table: what differs (`comparePayouts`, `payoutSumDrift`), and with
 * `heal` the provably safe fixes (a missing or lagging row) written through the webhook handler's own `apply`, so a
 * healed payout emits the ConnectEvents a webhook would have. It is also the payouts backfill.
 */
@Injectable()
export class PayoutReconciler {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly repo: PayoutsRepository,
    private readonly payouts: PayoutsService,
  ) {}

  async reconcileTenant(
    tenantId: string,
    opts: { since?: Date; heal: boolean; checkSums?: boolean },
  ): Promise<PayoutReconciliation> {
    const account = await this.dataSource
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: tenantId });
    if (!account)
      throw new ServiceException(ErrorCode.NotFound, `No connected account for tenant ${tenantId}`);
    const stripeAccount = account.stripe_account_id;
    const created = opts.since ? { created: { gte: Math.floor(opts.since.getTime() / 1000) } } : {};
    const atStripe: StripePayout[] = [];
    for await (const p of this.gateway.iterateList((after) =>
      this.gateway.listPayouts(
        { limit: 100, ...created, ...(after ? { starting_after: after } : {}) },
        { stripeAccount },
      ),
    ))
      atStripe.push(p);
    const drift = await this.driftOf(
      tenantId,
      atStripe,
      opts.checkSums ? (id) => this.transactionsOf(id, stripeAccount) : null,
    );
    let healed = 0;
    if (opts.heal) {
      const byId = new Map(atStripe.map((p) => [p.id, p]));
      for (const d of drift.filter((x) => x.healable)) {
        const payout = byId.get(d.stripe_payout_id);
        if (!payout) continue;
        const row = await this.dataSource.transaction((m) =>
          this.payouts.apply(m, tenantId, payout, stripeAccount),
        );
        if (row) healed++;
      }
    }
    return { tenant_id: tenantId, checked: atStripe.length, drift, healed };
  }

  /** Copies Stripe's payout onto our row in the caller's transaction (the webhook's own path); true when it changed. */
  async heal(
    m: EntityManager,
    tenantId: string,
    payout: StripePayout,
    stripeAccount: string,
  ): Promise<boolean> {
    return Boolean(await this.payouts.apply(m, tenantId, payout, stripeAccount));
  }

  /**
   * One page of Stripe's payouts against our rows; with `transactionsOf`, also each reconciled automatic payout's
   * balance transactions against its amount. Reconciliation runs call it with their own paced reads.
   */
  async driftOf(
    tenantId: string,
    atStripe: StripePayout[],
    transactionsOf: ((payoutId: string) => Promise<StripeBalanceTransaction[]>) | null,
  ): Promise<PayoutDrift[]> {
    const ours = await this.repo.byStripeIds(
      this.dataSource,
      tenantId,
      atStripe.map((p) => p.id),
    );
    const drift = comparePayouts(atStripe, ours);
    if (transactionsOf) {
      for (const p of atStripe.filter((x) => x.automatic && x.reconciliation_status === 'completed')) {
        const sum = payoutSumDrift(p, await transactionsOf(p.id));
        if (sum) drift.push(sum);
      }
    }
    return drift;
  }

  private async transactionsOf(payoutId: string, stripeAccount: string): Promise<StripeBalanceTransaction[]> {
    const out: StripeBalanceTransaction[] = [];
    for await (const t of this.gateway.iterateList((after) =>
      this.gateway.listBalanceTransactions(
        { payout: payoutId, limit: 100, ...(after ? { starting_after: after } : {}) },
        { stripeAccount },
      ),
    ))
      out.push(t);
    return out;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import {
  ChargeType,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
  VOID_ROUTE_STATUSES,
} from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import { JobQueue } from '../queue/job-queue.service';
import { PaymentRoutesRepository } from './payment-routes.repository';
import { reversalAmounts } from '../routing/split-allocation';

import { SPLIT_TRANSFERS_QUEUE as SPLIT_QUEUE } from './payments.queues';
export { SPLIT_QUEUE };

/** A split payment's transfers to create, or a split refund's reversals. */
export type SplitJob = { kind: 'transfers'; paymentId: string } | { kind: 'reversals'; refundId: string };

interface Reversed {
  reversed?: number;
  reversals?: Record<string, { id: string; amount: number }>;
  split_index?: number;
}

/**
 * Separate charges and transfers (https://docs.stripe.com/connect/separate-charges-and-transfers): after the
 * platform charge succeeds, one transfer per tenant with `source_transaction` = the charge; after a refund of it,
 * the transfers reversed in proportion (refund first, then reversals: a reversal needs the account's balance).
 * Every Stripe call has the key of its own route, so the inline call and the job can both run safely.
 */
@Injectable()
export class SplitTransfersService {
  private readonly logger = new Logger('SplitTransfers');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly queue: JobQueue,
    private readonly routes: PaymentRoutesRepository,
  ) {}

  /** The transfer routes of a split payment, in the split's order. */
  async children(paymentId: string): Promise<PaymentRouteEntity[]> {
    const rows = await this.dataSource
      .getRepository(PaymentRouteEntity)
      .findBy({ parent_id: paymentId, type: PaymentRouteType.Transfer });
    const idx = (r: PaymentRouteEntity) => (r.stripe_details as Reversed).split_index ?? 0;
    return rows.sort((a, b) => idx(a) - idx(b));
  }

  /** Runs now; when Stripe does not answer, the job retries it with backoff. */
  async runOrSchedule(job: SplitJob): Promise<void> {
    try {
      await this.run(job);
    } catch (err) {
      this.logger.warn(`split ${job.kind} deferred to the queue: ${(err as Error).message}`);
      await this.queue.send<SplitJob>(SPLIT_QUEUE, job, { startAfterSeconds: 1 });
    }
  }

  async run(job: SplitJob): Promise<void> {
    if (job.kind === 'transfers') await this.transfer(job.paymentId);
    else await this.reverse(job.refundId);
  }

  /** Creates the transfers still missing, once the charge has succeeded (else a later event runs this again). */
  async transfer(paymentId: string): Promise<void> {
    const repo = this.dataSource.getRepository(PaymentRouteEntity);
    const parent = await repo.findOneBy({ id: paymentId });
    if (!parent || parent.charge_type !== ChargeType.Separate || !parent.stripe_payment_intent_id) return;
    const pending = (await this.children(paymentId)).filter(
      (c) => c.stripe_object_id === null && c.status === PaymentRouteStatus.Pending,
    );
    if (!pending.length) return;
    let charge = parent.stripe_object_id;
    if (!charge) {
      // latest_charge can be null right after payment_intent.succeeded in some flows: read the PaymentIntent.
      const pi = await this.gateway.retrievePaymentIntent(parent.stripe_payment_intent_id);
      if (pi.status !== 'succeeded') return;
      charge = typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null);
      if (!charge) return;
    }
    for (const child of pending) {
      const tr = await this.gateway.createTransfer(
        {
          amount: child.amount,
          currency: child.currency.trim(),
          destination: child.stripe_account_id,
          transfer_group: parent.transfer_group ?? undefined,
          source_transaction: charge,
          metadata: {
            tenant_id: child.tenant_id,
            payment_route_id: child.id,
            parent_payment_route_id: parent.id,
          },
        },
        { idempotencyKey: child.stripe_idempotency_key },
      );
      await repo.update(
        { id: child.id, tenant_id: child.tenant_id, stripe_object_id: IsNull() },
        { stripe_object_id: tr.id, status: PaymentRouteStatus.Completed, stripe_status: 'paid' },
      );
    }
  }

  /**
   * Reverses the refund's share of each transfer (`reversalAmounts`: proportional, the last refund takes every
   * rest). Each reversal is recorded on its transfer route under the refund's id, so a rerun skips it.
   */
  async reverse(refundId: string): Promise<void> {
    const repo = this.dataSource.getRepository(PaymentRouteEntity);
    const refund = await repo.findOneBy({ id: refundId, type: PaymentRouteType.Refund });
    if (!refund?.parent_id || refund.charge_type !== ChargeType.Separate) return;
    if (VOID_ROUTE_STATUSES.includes(refund.status)) return;
    const parent = await repo.findOneByOrFail({ id: refund.parent_id });
    const children = (await this.children(parent.id)).filter((c) => c.stripe_object_id !== null);
    if (!children.length) return;
    const details = (c: PaymentRouteEntity) => c.stripe_details as Reversed;
    const done = children.filter((c) => details(c).reversals?.[refund.id]);
    if (done.length === children.length) return;
    // Earlier refunds are those whose reversals are recorded already.
    const earlier = new Set<string>();
    for (const c of children) for (const id of Object.keys(details(c).reversals ?? {})) earlier.add(id);
    earlier.delete(refund.id);
    const siblings = earlier.size
      ? await repo.findBy({ parent_id: parent.id, type: PaymentRouteType.Refund })
      : [];
    const refundedBefore = siblings.filter((s) => earlier.has(s.id)).reduce((a, s) => a + s.amount, 0);
    const amounts = reversalAmounts(
      refund.amount,
      parent.amount,
      refundedBefore,
      children.map((c) => c.amount),
      children.map((c) => {
        const d = details(c);
        return (d.reversed ?? 0) - (d.reversals?.[refund.id]?.amount ?? 0);
      }),
    );
    for (const [i, child] of children.entries()) {
      if (amounts[i] <= 0 || details(child).reversals?.[refund.id]) continue;
      const rev = await this.gateway.createTransferReversal(
        child.stripe_object_id!,
        {
          amount: amounts[i],
          metadata: { payment_route_id: refund.id, transfer_route_id: child.id },
        },
        { idempotencyKey: `route:${refund.id}:reversal:${child.id}` },
      );
      await this.dataSource.transaction(async (m) => {
        const row = await m.getRepository(PaymentRouteEntity).findOneOrFail({
          where: { id: child.id, tenant_id: child.tenant_id },
          lock: { mode: 'pessimistic_write' },
        });
        const d = { ...(row.stripe_details as Reversed) };
        if (d.reversals?.[refund.id]) return;
        d.reversals = { ...(d.reversals ?? {}), [refund.id]: { id: rev.id, amount: amounts[i] } };
        d.reversed = (d.reversed ?? 0) + amounts[i];
        await this.routes.setStripeDetails(m, row.id, row.tenant_id, d as Record<string, unknown>);
      });
    }
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { PaymentRouteEntity, PaymentRouteType } from '@app/database';
import { StripeBalanceTransaction, StripeGateway } from '@app/stripe-gateway';
import { DisputesRepository } from '../disputes/disputes.repository';

/** What a payout's balance transaction is ours: the route, refund, transfer or dispute it moved money for. */
export interface PayoutTransactionLinks {
  payment_id: string | null;
  refund_id: string | null;
  transfer_id: string | null;
  dispute_id: string | null;
}

/** Seconds around a destination payment in which its transfer was created (Stripe makes both at once). */
const TRANSFER_WINDOW_SECONDS = 300;

const idOf = (v: unknown): string | null =>
  typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String(v.id) : null;

const field = (o: unknown, key: string): unknown =>
  o && typeof o === 'object' && key in o ? (o as Record<string, unknown>)[key] : undefined;

/** A balance transaction's source and, for a transfer's money on the account, the transfer behind it. */
export interface PayoutSource {
  id: string | null;
  /** The transfer of a destination payment (`py_`), or of the payment a reversal refunded (`pyr_`). */
  transfer: string | null;
  /** A `pyr_`'s transfer reversal, whose `source_refund` is the platform refund. */
  reversal: string | null;
}

/**
 * Reads a source expanded with its charge (`data.source`, `data.source.charge`): a destination payment's
 * `source_transfer`, and a reversal's refund `source_transfer_reversal` with its payment's transfer.
 * https://docs.stripe.com/api/charges/object#charge_object-source_transfer
 */
export function sourceOf(t: StripeBalanceTransaction): PayoutSource {
  const source = t.source as unknown;
  const reversal = idOf(field(source, 'source_transfer_reversal'));
  const transfer = idOf(field(reversal ? field(source, 'charge') : source, 'source_transfer'));
  return { id: idOf(source), transfer, reversal };
}

/** Joins a payout's balance transactions to our rows. */
@Injectable()
export class PayoutSourcesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly disputes: DisputesRepository,
  ) {}

  /**
   * A direct charge, refund or dispute is its own source; a destination payment leads through its transfer: to
   * our transfer route (a split's share), or through the transfer's `source_transaction` to the platform charge
   * of our payment route (https://docs.stripe.com/connect/destination-charges#flow-of-funds); the refund of a
   * reversal leads through the reversal's `source_refund` to our refund route.
   */
  async links(
    tenantId: string,
    stripeAccount: string,
    txns: StripeBalanceTransaction[],
  ): Promise<Map<string, PayoutTransactionLinks>> {
    const sources = txns.map((t) => ({ ...sourceOf(t), created: t.created }));
    const ids = sources.flatMap((s) => [s.id, s.transfer]).filter((s): s is string => s !== null);
    const routeByObject = await this.routes(tenantId, ids);
    const unresolved = sources.filter((s) => s.transfer && !routeByObject.has(s.transfer));
    const chargeOfTransfer = await this.transferCharges(
      stripeAccount,
      unresolved.filter((s) => !s.reversal),
    );
    const refundOfReversal = await this.reversalRefunds(sources);
    const platformObjects = [...chargeOfTransfer.values(), ...refundOfReversal.values()];
    for (const [object, route] of await this.routes(tenantId, platformObjects))
      routeByObject.set(object, route);
    const disputeBySource = await this.disputes.idsByStripeIds(
      this.dataSource,
      tenantId,
      sources.map((s) => s.id).filter((s): s is string => s !== null),
    );
    const routeOf = (s: PayoutSource): PaymentRouteEntity | undefined => {
      // The account's refund of a reversal stands for the platform refund that reversed the transfer.
      if (s.reversal) return routeByObject.get(refundOfReversal.get(s.reversal) ?? '');
      const own = s.id ? routeByObject.get(s.id) : undefined;
      if (own || !s.transfer) return own;
      return routeByObject.get(s.transfer) ?? routeByObject.get(chargeOfTransfer.get(s.transfer) ?? '');
    };
    const out = new Map<string, PayoutTransactionLinks>();
    txns.forEach((t, i) => {
      const s = sources[i];
      const route = routeOf(s);
      out.set(t.id, {
        payment_id:
          route && route.type !== PaymentRouteType.Refund && route.type !== PaymentRouteType.Transfer
            ? route.id
            : null,
        refund_id: route?.type === PaymentRouteType.Refund ? route.id : null,
        transfer_id: route?.type === PaymentRouteType.Transfer ? route.id : null,
        dispute_id: (s.id ? disputeBySource.get(s.id) : undefined) ?? null,
      });
    });
    return out;
  }

  /**
   * The platform refund behind each reversal's `pyr_` (a destination charge refunded with `reverse_transfer`):
   * the reversals of its transfer, one list per transfer. https://docs.stripe.com/api/transfer_reversals/object
   */
  private async reversalRefunds(sources: PayoutSource[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const transfers = new Set(
      sources.filter((s) => s.reversal && s.transfer).map((s) => s.transfer as string),
    );
    for (const transfer of transfers) {
      for await (const r of this.gateway.iterateList((startingAfter) =>
        this.gateway.listTransferReversals(transfer, {
          limit: 100,
          ...(startingAfter ? { starting_after: startingAfter } : {}),
        }),
      )) {
        const refund = idOf(r.source_refund);
        if (refund) out.set(r.id, refund);
      }
    }
    return out;
  }

  private async routes(tenantId: string, objects: string[]): Promise<Map<string, PaymentRouteEntity>> {
    if (!objects.length) return new Map();
    const found = await this.dataSource
      .getRepository(PaymentRouteEntity)
      .find({ where: { tenant_id: tenantId, stripe_object_id: In([...new Set(objects)]) } });
    return new Map(found.map((r) => [r.stripe_object_id as string, r]));
  }

  /**
   * The platform charge of each transfer, from the platform's transfers to the account around the payments' time:
   * one list call per hundred transfers rather than one read each.
   */
  private async transferCharges(
    stripeAccount: string,
    payments: Array<{ transfer: string | null; created: number }>,
  ): Promise<Map<string, string>> {
    const wanted = new Set(payments.map((p) => p.transfer as string));
    const out = new Map<string, string>();
    if (!wanted.size) return out;
    const times = payments.map((p) => p.created);
    const created = {
      gte: Math.min(...times) - TRANSFER_WINDOW_SECONDS,
      lte: Math.max(...times) + TRANSFER_WINDOW_SECONDS,
    };
    for await (const tr of this.gateway.iterateList((startingAfter) =>
      this.gateway.listTransfers({
        destination: stripeAccount,
        created,
        limit: 100,
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      }),
    )) {
      const charge = idOf(tr.source_transaction);
      if (wanted.has(tr.id) && charge) out.set(tr.id, charge);
      if (out.size === wanted.size) break;
    }
    return out;
  }
}

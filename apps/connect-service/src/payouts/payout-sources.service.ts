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

/** Runs one Stripe read: through the caller's pacing (a reconciliation job's budget) or straight to the gateway. */
export type StripeRead = <T>(fn: (gateway: StripeGateway) => Promise<T>) => Promise<T>;

const present = (v: string | null | undefined): v is string => typeof v === 'string' && v.length > 0;

/** Stripe objects found along the way: what each leads to, and the dispute its metadata names (dispute recovery). */
interface Found {
  platform: Map<string, string>;
  dispute: Map<string, string>;
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
   * reversal leads through the reversal's `source_refund` to our refund route. Dispute recovery's reversal and the
   * transfer giving it back lead to our dispute: by the movements it recorded, else by their `dispute` metadata.
   */
  async links(
    tenantId: string,
    stripeAccount: string,
    txns: StripeBalanceTransaction[],
    read: StripeRead = (fn) => fn(this.gateway),
  ): Promise<Map<string, PayoutTransactionLinks>> {
    const sources = txns.map((t) => ({ ...sourceOf(t), created: t.created }));
    const routeByObject = await this.routes(
      tenantId,
      sources.flatMap((s) => [s.id, s.transfer]).filter(present),
    );
    // The recovery's reversal stands behind a `pyr_`; its return transfer behind a `py_` (never a reversal's own).
    const movedBy = (s: PayoutSource): string | null => s.reversal ?? s.transfer;
    const recovery = await this.disputes.idsByRecoveryMovements(
      this.dataSource,
      tenantId,
      sources.map(movedBy).filter(present),
    );
    const open = sources.filter((s) => !recovery.has(movedBy(s) ?? ''));
    const transfers = await this.transferCharges(
      stripeAccount,
      open.filter((s) => s.transfer && !s.reversal && !routeByObject.has(s.transfer)),
      read,
    );
    const reversals = await this.reversalRefunds(open, read);
    const platformObjects = [...transfers.platform.values(), ...reversals.platform.values()];
    for (const [object, route] of await this.routes(tenantId, platformObjects))
      routeByObject.set(object, route);
    const named = new Map([...transfers.dispute, ...reversals.dispute]);
    const disputeByStripeId = await this.disputes.idsByStripeIds(this.dataSource, tenantId, [
      ...sources.map((s) => s.id).filter(present),
      ...named.values(),
    ]);
    const routeOf = (s: PayoutSource): PaymentRouteEntity | undefined => {
      // The account's refund of a reversal stands for the platform refund that reversed the transfer.
      if (s.reversal) return routeByObject.get(reversals.platform.get(s.reversal) ?? '');
      const own = s.id ? routeByObject.get(s.id) : undefined;
      if (own || !s.transfer) return own;
      return routeByObject.get(s.transfer) ?? routeByObject.get(transfers.platform.get(s.transfer) ?? '');
    };
    const disputeOf = (s: PayoutSource): string | null => {
      const moved = movedBy(s);
      return (
        (moved ? recovery.get(moved) : undefined) ??
        (s.id ? disputeByStripeId.get(s.id) : undefined) ??
        disputeByStripeId.get(named.get(moved ?? '') ?? '') ??
        null
      );
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
        dispute_id: disputeOf(s),
      });
    });
    return out;
  }

  /**
   * The platform refund behind each reversal's `pyr_` (a destination charge refunded with `reverse_transfer`), or
   * the dispute its metadata names: the reversals of its transfer, one list per transfer.
   * https://docs.stripe.com/api/transfer_reversals/object
   */
  private async reversalRefunds(sources: PayoutSource[], read: StripeRead): Promise<Found> {
    const out: Found = { platform: new Map(), dispute: new Map() };
    const transfers = new Set(
      sources.filter((s) => s.reversal && s.transfer).map((s) => s.transfer as string),
    );
    for (const transfer of transfers) {
      for await (const r of this.gateway.iterateList((startingAfter) =>
        read((g) =>
          g.listTransferReversals(transfer, {
            limit: 100,
            ...(startingAfter ? { starting_after: startingAfter } : {}),
          }),
        ),
      )) {
        const refund = idOf(r.source_refund);
        if (refund) out.platform.set(r.id, refund);
        if (present(r.metadata?.dispute)) out.dispute.set(r.id, r.metadata.dispute);
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
   * The platform charge of each transfer (or the dispute its metadata names), from the platform's transfers to the
   * account around the payments' time: one list call per hundred transfers rather than one read each.
   */
  private async transferCharges(
    stripeAccount: string,
    payments: Array<{ transfer: string | null; created: number }>,
    read: StripeRead,
  ): Promise<Found> {
    const wanted = new Set(payments.map((p) => p.transfer as string));
    const out: Found = { platform: new Map(), dispute: new Map() };
    if (!wanted.size) return out;
    const times = payments.map((p) => p.created);
    const created = {
      gte: Math.min(...times) - TRANSFER_WINDOW_SECONDS,
      lte: Math.max(...times) + TRANSFER_WINDOW_SECONDS,
    };
    let found = 0;
    for await (const tr of this.gateway.iterateList((startingAfter) =>
      read((g) =>
        g.listTransfers({
          destination: stripeAccount,
          created,
          limit: 100,
          ...(startingAfter ? { starting_after: startingAfter } : {}),
        }),
      ),
    )) {
      if (!wanted.has(tr.id)) continue;
      const charge = idOf(tr.source_transaction);
      if (charge) out.platform.set(tr.id, charge);
      if (present(tr.metadata?.dispute)) out.dispute.set(tr.id, tr.metadata.dispute);
      if (++found === wanted.size) break;
    }
    return out;
  }
}

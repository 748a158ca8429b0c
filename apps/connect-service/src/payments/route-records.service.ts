import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
  UNFAILABLE_ROUTE_STATUSES,
} from '@app/database';
import { EventsService } from '../events/events.service';
import { PaymentRouteDto } from './dto/payment.dto';
import type { StoredResponse } from './idempotency.service';

/** What payments, refunds and transfers share: a route's event payload and its one way to fail. */
@Injectable()
export class RouteRecords {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventsService,
  ) {}

  /**
   * Marks a route failed once (never a completed one) and emits its failure event in the same transaction, keeping
   * the PaymentIntent Stripe made before refusing (`intent`) with its status.
   */
  async markFailed(
    id: string,
    tenantId: string,
    code: string,
    message: string,
    declined = false,
    intent?: { id: string; status?: string },
  ): Promise<PaymentRouteEntity | null> {
    return this.dataSource.transaction(async (manager) => {
      const row = await manager
        .getRepository(PaymentRouteEntity)
        .findOne({ where: { id, tenant_id: tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!row || UNFAILABLE_ROUTE_STATUSES.includes(row.status)) return row;
      row.status = PaymentRouteStatus.Failed;
      row.failure_code = code.slice(0, 128);
      row.failure_message = message;
      if (intent) {
        row.stripe_payment_intent_id ??= intent.id;
        if (intent.status) row.stripe_status = intent.status;
      }
      // A card decline, as analytics tells it apart from other failures: https://docs.stripe.com/declines
      if (declined) row.stripe_details = { ...(row.stripe_details ?? {}), declined: true };
      await manager.getRepository(PaymentRouteEntity).save(row);
      await this.events.emit(manager, {
        type: row.type === PaymentRouteType.Refund ? 'connect.refund.failed' : 'connect.payment.failed',
        tenant_id: row.tenant_id,
        data: eventData(row),
      });
      return row;
    });
  }
}

/** The `data` of every connect.payment.* and connect.refund.* event. */
export function eventData(row: PaymentRouteEntity): Record<string, unknown> {
  return {
    payment_route_id: row.id,
    type: row.type,
    status: row.status,
    amount: row.amount,
    fee: row.fee,
    currency: row.currency.trim(),
    charge_type: row.charge_type,
    stripe_account_id: row.stripe_account_id,
    payment_intent_id: row.stripe_payment_intent_id,
    stripe_object_id: row.stripe_object_id,
    parent_id: row.parent_id,
    failure_code: row.failure_code,
  };
}

/**
 * What a create answers: `created` when Stripe holds the object, `unknown` while Stripe's answer is missing (the
 * route stays pending and the reconcile job resolves it by the same key). The controller maps it to 201 or 202.
 */
export interface RouteOutcome {
  state: 'created' | 'unknown';
  route: PaymentRouteDto;
}

/** The answer to a create: 201 when Stripe holds the object, 202 while its answer is unknown. */
export const responseOf = (o: RouteOutcome): StoredResponse => ({
  status: o.state === 'created' ? 201 : 202,
  body: o.route,
});

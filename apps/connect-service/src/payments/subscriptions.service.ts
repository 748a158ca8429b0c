import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource } from 'typeorm';
import { Caller, assertTenantAccess } from '@app/auth';
import { ServiceException, ErrorCode, fieldError, isUuid } from '@app/common';
import { PaymentRouteEntity, PaymentRouteStatus, PaymentRouteType } from '@app/database';
import { StripeGateway, StripeSubscription, StripeSubscriptionCreateParams } from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { CreateSubscriptionDto, PaymentRouteDto } from './dto/payment.dto';
import { StoredResponse } from './idempotency.service';
import { PaymentRoutesRepository } from './payment-routes.repository';
import { PaymentsService } from './payments.service';
import { eventData } from './route-records.service';

/** Recurring amount of one billing period in minor units (sum of unit_amount × quantity). */
function periodAmount(sub: StripeSubscription): number {
  return sub.items.data.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * (item.quantity ?? 1), 0);
}

/**
 * Subscriptions on the tenant's connected account, as direct charges with `application_fee_percent`
 * (https://docs.stripe.com/connect/subscriptions#direct), recorded as `subscription` PaymentRoutes.
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly payments: PaymentsService,
    private readonly routes: PaymentRoutesRepository,
  ) {}

  async create(dto: CreateSubscriptionDto): Promise<StoredResponse> {
    const items = dto.items?.length ? dto.items : dto.price ? [{ price: dto.price }] : [];
    if (!items.length) throw fieldError('price', 'give a price or items');
    if (dto.price && dto.items?.length) throw fieldError('items', 'give either price or items, not both');
    if (
      dto.application_fee_percent !== undefined &&
      Math.round(dto.application_fee_percent * 100) !== dto.application_fee_percent * 100
    ) {
      throw fieldError('application_fee_percent', 'application_fee_percent has at most two decimals');
    }
    const account = await this.payments.chargeableAccount(dto.tenant_id);
    const id = randomUUID();
    const key = `route:${id}:create`;
    const params: StripeSubscriptionCreateParams = {
      customer: dto.customer,
      items: items.map((i) => ({
        price: i.price,
        ...('quantity' in i && i.quantity ? { quantity: i.quantity } : {}),
      })),
      metadata: { ...(dto.metadata ?? {}), tenant_id: dto.tenant_id, payment_route_id: id },
      ...(dto.application_fee_percent !== undefined
        ? { application_fee_percent: dto.application_fee_percent }
        : {}),
      ...(dto.default_payment_method ? { default_payment_method: dto.default_payment_method } : {}),
    };
    let sub: StripeSubscription;
    try {
      sub = await this.gateway.createSubscription(params, {
        stripeAccount: account.stripe_account_id,
        idempotencyKey: key,
      });
    } catch (err) {
      if (err instanceof ServiceException && err.code === ErrorCode.StripeRequestFailed) {
        throw new ServiceException(
          ErrorCode.RoutingFailed,
          `Stripe refused the subscription: ${err.message}`,
          {
            stripe: err.details?.stripe,
          },
        );
      }
      throw err;
    }
    const row = await this.dataSource.transaction(async (manager) => {
      const route = manager.getRepository(PaymentRouteEntity).create({
        id,
        tenant_id: dto.tenant_id,
        stripe_account_id: account.stripe_account_id,
        type: PaymentRouteType.Subscription,
        status:
          sub.status === 'active' || sub.status === 'trialing'
            ? PaymentRouteStatus.Completed
            : PaymentRouteStatus.Pending,
        charge_type: null,
        amount: periodAmount(sub),
        fee: 0,
        currency: sub.currency,
        stripe_object_id: sub.id,
        stripe_status: sub.status,
        stripe_idempotency_key: key,
        metadata: dto.metadata ?? {},
        stripe_details: { application_fee_percent: dto.application_fee_percent ?? null },
      });
      await manager
        .getRepository(PaymentRouteEntity)
        .insert(route as QueryDeepPartialEntity<PaymentRouteEntity>);
      await this.events.emit(manager, {
        type: 'connect.subscription.created',
        tenant_id: route.tenant_id,
        data: eventData(route),
      });
      return route;
    });
    return { status: 201, body: PaymentRouteDto.from(row) };
  }

  /**
   * `id` is the subscription's PaymentRoute id (or Stripe's `sub_` id). The route's row stays locked through the
   * Stripe call, so concurrent cancels (by either id) make one call: the others wait and answer the canceled route.
   */
  async cancel(caller: Caller, id: string): Promise<PaymentRouteDto> {
    const where = id.startsWith('sub_')
      ? { stripe_object_id: id, type: PaymentRouteType.Subscription }
      : isUuid(id)
        ? { id, type: PaymentRouteType.Subscription }
        : null;
    const row = await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(PaymentRouteEntity);
      // The lock names the tenant (on Citus it goes to the route's one shard), read first from the id alone.
      const tenantId = where
        ? await this.routes.tenantOf(manager, 'id' in where ? { id } : { stripe_object_id: id })
        : undefined;
      const route = tenantId
        ? await repo.findOne({
            where: { ...where, tenant_id: tenantId },
            lock: { mode: 'pessimistic_write' },
          })
        : null;
      if (!route || !route.stripe_object_id)
        throw new ServiceException(ErrorCode.NotFound, `No subscription ${id}`);
      assertTenantAccess(caller, route.tenant_id);
      if (route.status === PaymentRouteStatus.Canceled) return route;
      const sub = await this.gateway.cancelSubscription(
        route.stripe_object_id,
        {},
        { stripeAccount: route.stripe_account_id },
      );
      route.status = PaymentRouteStatus.Canceled;
      route.stripe_status = sub.status;
      await repo.save(route);
      await this.events.emit(manager, {
        type: 'connect.subscription.canceled',
        tenant_id: route.tenant_id,
        data: eventData(route),
      });
      // As stored, so this answer and a concurrent cancel's (which reads the committed row) are the same.
      return repo.findOneByOrFail({ id: route.id });
    });
    return PaymentRouteDto.from(row);
  }
}

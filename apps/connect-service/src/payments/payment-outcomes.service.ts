import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DataSource } from 'typeorm';
import { ServiceException, ErrorCode, whileDatabaseUnavailable } from '@app/common';
import { paymentsConfig } from '@app/config';
import {
  ConnectAccountEntity,
  OPEN_ROUTE_STATUSES,
  PaymentRouteEntity,
  PaymentRouteStatus,
  PaymentRouteType,
  Sql,
  sql,
} from '@app/database';
import { StripeGateway, StripePaymentIntent } from '@app/stripe-gateway';
import { AuditLogService } from '../audit/audit-log.service';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { CreatePaymentDto, PaymentRouteDto } from './dto/payment.dto';
import { IdempotencyClaim } from './idempotency.service';
import { PaymentRoutesRepository } from './payment-routes.repository';
import { paymentsTotal } from './payments-metrics';
import { RouteOutcome, RouteRecords, eventData, responseOf } from './route-records.service';
import { RECONCILE_QUEUE, ReconcileJob, paymentIntentParams, routeStatusOf } from './stripe-params';

export interface StripeErrorDetails {
  code?: string;
  decline_code?: string;
  type?: string;
  param?: string;
  payment_intent?: string;
  payment_intent_status?: string;
}
export interface Refused {
  kind: 'refused';
  error: ServiceException;
  declined: boolean;
  failureCode: string;
  stripe: StripeErrorDetails;
}
export type IntentAttempt =
  { kind: 'created'; pi: StripePaymentIntent } | { kind: 'unknown'; error: ServiceException } | Refused;

/** A route as its INSERT left it: the first record of its PaymentIntent may go in one statement while it stays so. */
export interface Inserted {
  /** The row's xmin after the INSERT: any later UPDATE (a webhook's) changes it. */
  rowVersion: string;
  claim: IdempotencyClaim | null;
}

const chargeOf = (pi: StripePaymentIntent): string | null =>
  typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null);

/** What a create answers once Stripe holds the PaymentIntent (its client_secret is shown this once). */
export const createdOutcome = (row: PaymentRouteEntity, pi: StripePaymentIntent): RouteOutcome => ({
  state: 'created',
  route: PaymentRouteDto.from(row, pi.client_secret ?? null),
});

/**
 * The last stages of a payment: the route written (with the request's Idempotency-Key claim), the PaymentIntent
 * asked of Stripe under the route's key, and its outcome recorded (created, refused, or unknown and reconciled).
 */
@Injectable()
export class PaymentOutcomes {
  private readonly logger = new Logger('PaymentsService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly events: EventsService,
    private readonly queue: JobQueue,
    private readonly records: RouteRecords,
    private readonly routes: PaymentRoutesRepository,
    private readonly audit: AuditLogService,
    @Inject(paymentsConfig.KEY) private readonly config: ConfigType<typeof paymentsConfig>,
  ) {}

  /** A new pending payment route on the tenant's account, as both create paths write it first. */
  draft(
    id: string,
    dto: CreatePaymentDto,
    account: ConnectAccountEntity,
    fields: Pick<PaymentRouteEntity, 'charge_type' | 'fee'> & Partial<PaymentRouteEntity>,
  ): PaymentRouteEntity {
    const p = dto.payment_data;
    return this.dataSource.getRepository(PaymentRouteEntity).create({
      id,
      tenant_id: dto.tenant_id,
      stripe_account_id: account.stripe_account_id,
      type: PaymentRouteType.Payment,
      status: PaymentRouteStatus.Pending,
      amount: p.amount,
      currency: p.currency,
      stripe_idempotency_key: `route:${id}:create`,
      description: p.description ?? null,
      metadata: p.metadata ?? {},
      stripe_details: {},
      ...fields,
    });
  }

  /**
   * Inserts the route as insert() would, returning the row as stored. With a claim, in the statement that claims the
   * Idempotency-Key and only if it does: a key another request holds inserts nothing, and the claim throws.
   */
  async insertRoute(
    draft: PaymentRouteEntity,
    claim: IdempotencyClaim | null,
  ): Promise<{ route: PaymentRouteEntity; rowVersion: string }> {
    const claiming = claim?.cte() ?? null;
    const inserted = await this.routes.insert(draft, claiming);
    if (claiming) claim!.claimed(inserted.claimId);
    return { route: inserted.route, rowVersion: inserted.rowVersion };
  }

  /** The request's path: one attempt; an unknown outcome schedules the reconcile job instead of failing. */
  async route(
    route: PaymentRouteEntity,
    job: ReconcileJob,
    made?: IntentAttempt,
    inserted?: Inserted,
  ): Promise<RouteOutcome> {
    const attempt = made ?? (await this.requestIntent(route, job));
    if (attempt.kind === 'unknown') {
      // The request may have reached Stripe: keep the route pending and resolve it by the same key later.
      await this.queue.send<ReconcileJob>(RECONCILE_QUEUE, job, {
        startAfterSeconds: this.config.reconcileDelaySeconds,
      });
      this.count(route, 'unknown');
      this.logger.warn(
        `payment route ${route.id}: outcome unknown (${attempt.error.message}); reconcile scheduled`,
      );
      return { state: 'unknown', route: PaymentRouteDto.from(route) };
    }
    if (attempt.kind === 'refused') {
      await this.fail(route, attempt);
      throw attempt.declined
        ? new ServiceException(ErrorCode.CardDeclined, attempt.error.message || 'The card was declined', {
            decline_code: attempt.failureCode,
            payment_route_id: route.id,
            stripe: attempt.stripe,
          })
        : new ServiceException(
            ErrorCode.RoutingFailed,
            `Stripe refused to route the payment: ${attempt.error.message}`,
            { payment_route_id: route.id, stripe: attempt.stripe },
          );
    }
    const first = inserted && (await this.recordFirst(route, attempt.pi, inserted));
    return first ?? createdOutcome(await this.recordIntent(route, attempt.pi), attempt.pi);
  }

  /**
   * The first record of the PaymentIntent on a route no one changed since its INSERT, as ONE statement: the route's
   * UPDATE (what recordIntent would write, version and updated_at bumped as TypeORM does), its
   * connect.payment.routed event and dispatch job, the idempotent answer and the request's audit row; returns that
   * answer. Null when the row changed meanwhile (a webhook came first): recordIntent then decides from the row as it is.
   */
  private async recordFirst(
    route: PaymentRouteEntity,
    pi: StripePaymentIntent,
    inserted: Inserted,
  ): Promise<RouteOutcome | null> {
    const row = Object.assign(new PaymentRouteEntity(), route, {
      stripe_payment_intent_id: pi.id,
      status: routeStatusOf(pi),
      stripe_status: pi.status,
      stripe_object_id: route.stripe_object_id ?? chargeOf(pi),
    });
    const outcome = createdOutcome(row, pi);
    const ctes: Sql[] = [
      await this.events.emitSql('event', 'route', {
        type: 'connect.payment.routed',
        tenant_id: row.tenant_id,
        data: eventData(row),
      }),
    ];
    const claim = inserted.claim;
    if (claim)
      ctes.push(sql`answer AS (${claim.answerCte(responseOf(outcome), sql`EXISTS (SELECT 1 FROM route)`)})`);
    const audit = this.audit.successRowSql(outcome.route, 'route');
    if (audit) ctes.push(sql`audit AS (${audit.sql})`);
    // Stripe has the PaymentIntent now: recording it must outlast a database restart (see recordIntent).
    const recorded = await whileDatabaseUnavailable(() =>
      this.routes.recordFirst({ ...row, rowVersion: inserted.rowVersion }, ctes),
    );
    if (!recorded) return null;
    claim?.stored();
    audit?.confirm();
    this.count(row, 'routed');
    return outcome;
  }

  /** One PaymentIntent create under the route's key, classified: created, refused by Stripe, or unknown. */
  async requestIntent(route: PaymentRouteEntity, job: ReconcileJob): Promise<IntentAttempt> {
    try {
      const pi = await this.gateway.createPaymentIntent(paymentIntentParams(route, job), {
        idempotencyKey: route.stripe_idempotency_key,
        ...(job.stripeAccount ? { stripeAccount: job.stripeAccount } : {}),
      });
      return { kind: 'created', pi };
    } catch (err) {
      if (!(err instanceof ServiceException)) throw err;
      if (err.code === ErrorCode.StripeUnavailable) return { kind: 'unknown', error: err };
      const stripe = (err.details?.stripe ?? {}) as StripeErrorDetails;
      const declined = err.code === ErrorCode.CardDeclined;
      const failureCode = declined
        ? (stripe.decline_code ?? stripe.code ?? 'card_declined')
        : (stripe.code ?? stripe.type ?? err.code);
      return { kind: 'refused', error: err, declined, failureCode, stripe };
    }
  }

  async fail(route: PaymentRouteEntity, attempt: Refused): Promise<void> {
    // Stripe may have made the PaymentIntent before refusing it: the route keeps it and the state Stripe reports.
    const intent = attempt.stripe.payment_intent
      ? { id: attempt.stripe.payment_intent, status: attempt.stripe.payment_intent_status }
      : undefined;
    await this.records.markFailed(
      route.id,
      route.tenant_id,
      attempt.failureCode,
      attempt.error.message,
      attempt.declined,
      intent,
    );
    this.count(route, attempt.declined ? 'declined' : 'failed');
  }

  count(route: PaymentRouteEntity, outcome: string): void {
    paymentsTotal.inc({ currency: route.currency, charge_type: route.charge_type ?? 'none', outcome });
  }

  /** Records the PaymentIntent on the route; emits connect.payment.routed the first time. */
  async recordIntent(route: PaymentRouteEntity, pi: StripePaymentIntent): Promise<PaymentRouteEntity> {
    // Stripe has the PaymentIntent now: recording it must outlast a database restart, or the route stays pending and
    // the client's retry creates a second one.
    const stored = await whileDatabaseUnavailable(() =>
      this.dataSource.transaction(async (manager) => {
        const row = await manager.getRepository(PaymentRouteEntity).findOneOrFail({
          where: { id: route.id, tenant_id: route.tenant_id },
          lock: { mode: 'pessimistic_write' },
        });
        const firstTime = row.stripe_payment_intent_id === null;
        row.stripe_payment_intent_id = pi.id;
        const changes: QueryDeepPartialEntity<PaymentRouteEntity> = { stripe_payment_intent_id: pi.id };
        // A webhook may have completed the route already: never move it back.
        if (OPEN_ROUTE_STATUSES.includes(row.status)) {
          row.status = routeStatusOf(pi);
          row.stripe_status = pi.status;
          changes.status = row.status;
          changes.stripe_status = row.stripe_status;
        }
        // The charge is known as soon as Stripe answers: application_fee.* and dispute events name only the charge.
        const charge = chargeOf(pi);
        if (charge && row.stripe_object_id === null) {
          row.stripe_object_id = charge;
          changes.stripe_object_id = charge;
        }
        // One UPDATE of the row locked above (TypeORM still bumps version and updated_at); save() would SELECT it
        // again first to diff it, one more round trip on the payment hot path.
        await manager
          .getRepository(PaymentRouteEntity)
          .update({ id: row.id, tenant_id: row.tenant_id }, changes);
        if (firstTime) {
          await this.events.emit(manager, {
            type: 'connect.payment.routed',
            tenant_id: row.tenant_id,
            data: eventData(row),
          });
        }
        return row;
      }),
    );
    this.count(route, 'routed');
    return stored;
  }
}

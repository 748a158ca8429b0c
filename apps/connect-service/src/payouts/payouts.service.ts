import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { assertTenantAccess, Caller } from '@app/auth';
import { ErrorCode, ServiceException } from '@app/common';
import { moneyConfig } from '@app/config';
import { ConnectAccountEntity } from '@app/database';
import { StripeBalanceTransaction, StripeGateway, stripeErrorCode, StripePayout } from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { BalanceCacheService } from './balance-cache.service';
import {
  BalanceDto,
  CreatePayoutDto,
  ListPayoutsQueryDto,
  PayoutDto,
  PayoutListDto,
  PayoutTransactionsDto,
} from './dto/payout.dto';
import { payoutSums } from './payout-reconciliation';
import { payoutEventData, payoutEventsFor, payoutStateOf } from './payout-state.util';
import { payoutScheduleOf } from './payout-schedule.util';
import { PayoutRow, PayoutsRepository } from './payouts.repository';
import { PayoutSourcesService } from './payout-sources.service';

function isStripeDown(err: unknown): boolean {
  return (
    err instanceof ServiceException &&
    (err.code === ErrorCode.StripeUnavailable || err.code === ErrorCode.StripeRequestFailed)
  );
}

/** Balances and payouts of tenants' connected accounts. https://docs.stripe.com/connect/payouts-connected-accounts */
@Injectable()
export class PayoutsService {
  private readonly logger = new Logger('Payouts');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(moneyConfig.KEY) private readonly cfg: ConfigType<typeof moneyConfig>,
    private readonly gateway: StripeGateway,
    private readonly repo: PayoutsRepository,
    private readonly cache: BalanceCacheService,
    private readonly events: EventsService,
    private readonly sources: PayoutSourcesService,
  ) {}

  async account(caller: Caller, tenantId: string): Promise<ConnectAccountEntity> {
    assertTenantAccess(caller, tenantId);
    const row = await this.dataSource.getRepository(ConnectAccountEntity).findOneBy({ tenant_id: tenantId });
    if (!row) throw new ServiceException(ErrorCode.NotFound, `No connected account for tenant ${tenantId}`);
    return row;
  }

  /**
   * The answer's JSON: read from Stripe, cached for BALANCE_CACHE_SECONDS (a warm read is one cache GET, sent as
   * stored, no SQL); the last read with `stale: true` when Stripe is down.
   */
  async balanceJson(caller: Caller, tenantId: string): Promise<string> {
    const fresh = await this.cachedBalanceJson(caller, tenantId);
    if (fresh !== undefined) return fresh;
    const account = await this.account(caller, tenantId);
    const stripeAccount = account.stripe_account_id;
    try {
      const balance = await this.gateway.money.retrieveBalance({ stripeAccount });
      const answer = BalanceDto.from(tenantId, stripeAccount, balance, new Date().toISOString(), false);
      return await this.cache.set(tenantId, answer, this.cfg.balanceCacheSeconds * 1000);
    } catch (err) {
      if (!isStripeDown(err)) throw err;
      const last = await this.cache.getLast(tenantId);
      if (last?.stripe_account_id !== stripeAccount) throw err;
      this.logger.warn(`serving ${tenantId}'s last known balance: ${(err as Error).message}`);
      return JSON.stringify({ ...last, stale: true } satisfies BalanceDto);
    }
  }

  /** The fresh cached answer alone (undefined on a miss): what the direct cached read serves outside Nest. */
  cachedBalanceJson(caller: Caller, tenantId: string): Promise<string | undefined> {
    assertTenantAccess(caller, tenantId);
    return this.cache.getFreshJson(tenantId);
  }

  async list(caller: Caller, tenantId: string, q: ListPayoutsQueryDto): Promise<PayoutListDto> {
    assertTenantAccess(caller, tenantId);
    const page = await this.repo.list(tenantId, {
      status: q.status,
      createdGte: q['created[gte]'],
      createdLt: q['created[lt]'],
      arrivalGte: q['arrival_date[gte]'],
      arrivalLt: q['arrival_date[lt]'],
      limit: q.limit,
      cursor: q.cursor,
    });
    return { data: page.rows.map(PayoutDto.from), has_more: page.has_more, next_cursor: page.next_cursor };
  }

  async get(caller: Caller, id: string): Promise<PayoutRow> {
    const row = await this.repo.get(this.dataSource, id, null);
    if (!row) throw new ServiceException(ErrorCode.NotFound, 'Payout not found');
    assertTenantAccess(caller, row.tenant_id);
    return row;
  }

  /**
   * A manual or instant payout, checked before Stripe is called: a standard payout needs a `manual` schedule
   * (https://docs.stripe.com/connect/manual-payouts) and both need the balance they take.
   */
  async create(
    caller: Caller,
    tenantId: string,
    dto: CreatePayoutDto,
    key: string | undefined,
  ): Promise<PayoutDto> {
    const account = await this.account(caller, tenantId);
    const stripeAccount = account.stripe_account_id;
    const method = dto.method ?? 'standard';
    const currency = dto.currency.toLowerCase();
    if (method === 'standard') {
      const schedule = payoutScheduleOf(await this.gateway.retrieveAccount(stripeAccount));
      if (schedule?.interval !== 'manual') {
        throw new ServiceException(
          ErrorCode.PayoutNotAllowed,
          `The account pays out automatically (interval ${schedule?.interval ?? 'unknown'}): a standard payout needs a manual schedule; use method instant or set payout_schedule.interval to manual`,
          { interval: schedule?.interval ?? null },
        );
      }
    }
    const balance = await this.gateway.money.retrieveBalance({ stripeAccount });
    const side = method === 'instant' ? (balance.instant_available ?? []) : balance.available;
    const available = side.find((b) => b.currency === currency)?.amount ?? 0;
    if (available < dto.amount) {
      throw new ServiceException(
        ErrorCode.PayoutBalanceInsufficient,
        `The ${method === 'instant' ? 'instant-available' : 'available'} balance is ${available} ${currency}: ${dto.amount - available} short of the payout of ${dto.amount}`,
        { currency, requested: dto.amount, available, shortfall: dto.amount - available, method },
      );
    }
    const payout = await this.gateway.money.createPayout(
      {
        amount: dto.amount,
        currency,
        method,
        ...(dto.description ? { description: dto.description } : {}),
        metadata: { tenant_id: tenantId },
      },
      { stripeAccount, ...(key ? { idempotencyKey: `payout:${tenantId}:${key}` } : {}) },
    );
    const row = await this.dataSource.transaction((m) => this.apply(m, tenantId, payout, stripeAccount));
    return PayoutDto.from(row ?? (await this.mustFind(tenantId, payout.id)));
  }

  async cancel(caller: Caller, id: string): Promise<PayoutDto> {
    const found = await this.get(caller, id);
    // The payout's lock is held through the Stripe call, so concurrent cancels make one call: the others wait and
    // answer the canceled row, as a later cancel does.
    const row = await this.dataSource.transaction(async (m) => {
      await this.repo.lock(m, found.tenant_id, found.stripe_payout_id);
      const current = (await this.repo.byStripeIds(m, found.tenant_id, [found.stripe_payout_id]))[0] ?? found;
      if (current.status === 'canceled') return current;
      if (current.status !== 'pending' || current.method === 'instant') {
        throw new ServiceException(
          ErrorCode.PayoutNotCancelable,
          `Only a pending standard payout can be canceled (status ${current.status}, method ${current.method})`,
        );
      }
      let payout: StripePayout;
      try {
        payout = await this.gateway.money.cancelPayout(current.stripe_payout_id, {
          stripeAccount: current.stripe_account_id,
          idempotencyKey: `payout-cancel:${current.id}`,
        });
      } catch (err) {
        if (
          stripeErrorCode(err) === 'payout_not_cancelable' ||
          stripeErrorCode(err) === 'payout_not_cancellable'
        )
          throw new ServiceException(ErrorCode.PayoutNotCancelable, (err as Error).message);
        throw err;
      }
      await this.apply(m, current.tenant_id, payout, current.stripe_account_id);
      // As stored, so this answer and a waiting cancel's (which reads the committed row) are the same.
      return (await this.repo.byStripeIds(m, current.tenant_id, [payout.id]))[0] ?? current;
    });
    return PayoutDto.from(row);
  }

  /**
   * Stores Stripe's payout (webhook, API answer or backfill) and emits what the change means, in `m`. `event`
   * orders webhooks; without it only a row no webhook has touched yet moves. Answers the row, or undefined when stale.
   */
  async apply(
    m: EntityManager,
    tenantId: string,
    payout: StripePayout,
    stripeAccount: string,
    event?: { created: number; id: string },
  ): Promise<PayoutRow | undefined> {
    await this.repo.lock(m, tenantId, payout.id);
    const before = (await this.repo.byStripeIds(m, tenantId, [payout.id]))[0] ?? null;
    const result = await this.repo.upsert(m, tenantId, payoutStateOf(payout, stripeAccount), event);
    if (!result) return undefined;
    for (const type of payoutEventsFor(result.inserted ? null : before, result.row)) {
      await this.events.emit(m, { type, tenant_id: tenantId, data: payoutEventData(result.row) });
    }
    return result.row;
  }

  private async mustFind(tenantId: string, stripePayoutId: string): Promise<PayoutRow> {
    const [row] = await this.repo.byStripeIds(this.dataSource, tenantId, [stripePayoutId]);
    if (!row) throw new ServiceException(ErrorCode.Internal, 'payout row missing after write');
    return row;
  }

  /**
   * What the payout settled: Stripe's balance transactions of the payout, each joined to our payment, refund,
   * transfer or dispute, with totals that must equal the payout's amount.
   * https://docs.stripe.com/api/balance_transactions/list#balance_transaction_list-payout
   */
  async transactions(caller: Caller, id: string): Promise<PayoutTransactionsDto> {
    const row = await this.get(caller, id);
    if (row.reconciliation_status !== 'completed') {
      throw new ServiceException(
        ErrorCode.PayoutNotReconciled,
        `Payout ${row.id} is not reconciled yet (reconciliation_status ${row.reconciliation_status}): its transactions are not known`,
        { reconciliation_status: row.reconciliation_status },
      );
    }
    const stripeAccount = row.stripe_account_id;
    const txns: StripeBalanceTransaction[] = [];
    for await (const t of this.gateway.iterateList((startingAfter) =>
      this.gateway.listBalanceTransactions(
        {
          payout: row.stripe_payout_id,
          limit: 100,
          // The source inline: a destination payment's `source_transfer`, a reversal refund's payment, lead to our route.
          expand: ['data.source', 'data.source.charge'],
          ...(startingAfter ? { starting_after: startingAfter } : {}),
        },
        { stripeAccount },
      ),
    ))
      txns.push(t);
    const links = await this.sources.links(row.tenant_id, stripeAccount, txns);
    const none = { payment_id: null, refund_id: null, transfer_id: null, dispute_id: null };
    return PayoutTransactionsDto.from(
      row,
      txns,
      payoutSums(row.amount, txns),
      (t) => links.get(t.id) ?? none,
    );
  }
}

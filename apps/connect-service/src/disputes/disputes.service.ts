import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { assertTenantAccess, Caller, tenantScopeOf } from '@app/auth';
import { ErrorCode, ServiceException } from '@app/common';
import { moneyConfig } from '@app/config';
import { ConnectAccountEntity, PaymentRouteEntity, PaymentRouteType } from '@app/database';
import {
  StripeDispute,
  StripeDisputeEvidenceParams,
  StripeGateway,
  stripeErrorCode,
} from '@app/stripe-gateway';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { fundsOf, initialRecovery, isClosed, isForward, liableOf } from './dispute-state.util';
import { DisputeRow, DisputesRepository, DisputeState } from './disputes.repository';
import { DISPUTE_RECOVERY_QUEUE, DisputeRecoveryJob } from './disputes.queues';
import { DisputeDto, DisputeListDto, ListDisputesQueryDto } from './dto/dispute.dto';

function idOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string')
    return (v as { id: string }).id;
  return null;
}

/** The ConnectEvent body of every connect.dispute.* event. */
export function disputeEventData(row: DisputeRow): Record<string, unknown> {
  return {
    dispute_id: row.id,
    stripe_dispute_id: row.stripe_dispute_id,
    payment_id: row.payment_id,
    amount: row.amount,
    currency: row.currency,
    reason: row.reason,
    status: row.status,
    evidence_due_by: row.evidence_due_by,
    liable: row.liable,
    recovery: row.recovery,
  };
}

/** Disputes of tenants' payments: our record, evidence and acceptance. https://docs.stripe.com/disputes */
@Injectable()
export class DisputesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(moneyConfig.KEY) private readonly cfg: ConfigType<typeof moneyConfig>,
    private readonly gateway: StripeGateway,
    private readonly repo: DisputesRepository,
    private readonly events: EventsService,
    private readonly queue: JobQueue,
  ) {}

  /**
   * Applies Stripe's dispute (from an event or an API answer) in `m`, never backwards: an older event or an earlier
   * status changes nothing. Emits connect.dispute.created|updated|closed and queues the recovery step the change
   * calls for. Answers the row, or undefined when nothing moved.
   */
  async apply(
    m: EntityManager,
    tenantId: string,
    d: StripeDispute,
    eventAccount: string | null,
    event: { created: number; id: string } | null,
  ): Promise<DisputeRow | undefined> {
    await this.repo.lock(m, tenantId, d.id);
    const before = await this.repo.byStripeId(m, tenantId, d.id);
    const funds = fundsOf(d.balance_transactions);
    const details = d.evidence_details;
    const state: DisputeState = {
      stripe_dispute_id: d.id,
      stripe_account_id: eventAccount,
      charge_id: idOf(d.charge),
      payment_id: null,
      amount: d.amount,
      currency: d.currency,
      reason: d.reason,
      status: d.status,
      evidence_due_by: details?.due_by ? new Date(details.due_by * 1000) : null,
      is_charge_refundable: d.is_charge_refundable,
      evidence_submitted: (details?.submission_count ?? 0) > 0,
      liable: liableOf(eventAccount),
      funds_withdrawn: funds.withdrawn,
      funds_reinstated: funds.reinstated,
      dispute_fee: funds.fee,
      created_at: new Date(d.created * 1000),
    };
    if (!before) {
      state.payment_id = await this.paymentOf(m, tenantId, idOf(d.payment_intent), state.charge_id);
      const account = await m
        .getRepository(ConnectAccountEntity)
        .findOne({ where: { tenant_id: tenantId }, select: { id: true, dispute_recovery: true } });
      const mode = account?.dispute_recovery ?? this.cfg.disputeRecoveryDefault;
      const row = await this.repo.insert(m, tenantId, state, initialRecovery(state.liable, mode), event);
      await this.events.emit(m, {
        type: 'connect.dispute.created',
        tenant_id: tenantId,
        data: disputeEventData(row),
      });
      if (isClosed(row.status))
        await this.events.emit(m, {
          type: 'connect.dispute.closed',
          tenant_id: tenantId,
          data: disputeEventData(row),
        });
      await this.queueRecovery(m, row);
      return row;
    }
    if (event && before.last_event_created !== null && event.created < before.last_event_created)
      return undefined;
    if (event && before.last_event_id === event.id) return undefined;
    // Every figure only grows or moves forward, so a late or repeated event never undoes a newer one.
    const merged = {
      status: isForward(before.status, state.status) ? state.status : before.status,
      evidence_due_by: state.evidence_due_by ?? before.evidence_due_by,
      is_charge_refundable: isForward(before.status, state.status)
        ? state.is_charge_refundable
        : before.is_charge_refundable,
      evidence_submitted: before.evidence_submitted || state.evidence_submitted,
      funds_withdrawn: Math.max(before.funds_withdrawn, state.funds_withdrawn),
      funds_reinstated: Math.max(before.funds_reinstated, state.funds_reinstated),
      dispute_fee: Math.max(before.dispute_fee, state.dispute_fee),
      reason: state.reason,
      amount: state.amount,
    };
    const changed =
      merged.status !== before.status ||
      merged.evidence_due_by?.getTime() !== before.evidence_due_by?.getTime() ||
      merged.evidence_submitted !== before.evidence_submitted ||
      merged.funds_withdrawn !== before.funds_withdrawn ||
      merged.funds_reinstated !== before.funds_reinstated;
    const row = await this.repo.update(m, before, merged, event);
    if (!changed) return undefined;
    const closedNow = isClosed(row.status) && !isClosed(before.status);
    await this.events.emit(m, {
      type: closedNow ? 'connect.dispute.closed' : 'connect.dispute.updated',
      tenant_id: tenantId,
      data: disputeEventData(row),
    });
    await this.queueRecovery(m, row);
    return row;
  }

  /** Queues the step the dispute's state calls for: reverse once the platform was debited, return once won. */
  private async queueRecovery(m: EntityManager, row: DisputeRow): Promise<void> {
    if (row.liable !== 'platform' || row.recovery.mode !== 'reverse_transfer') return;
    let step: DisputeRecoveryJob['step'] | null = null;
    if (row.recovery.status === 'pending' && row.funds_withdrawn > 0) step = 'reverse';
    if (row.recovery.status === 'reversed' && row.status === 'won') step = 'return';
    if (!step) return;
    await this.queue.send<DisputeRecoveryJob>(
      DISPUTE_RECOVERY_QUEUE,
      { tenantId: row.tenant_id, disputeId: row.id, step },
      { manager: m, singletonKey: `${row.id}:${step}` },
    );
  }

  private async paymentOf(
    m: EntityManager,
    tenantId: string,
    pi: string | null,
    charge: string | null,
  ): Promise<string | null> {
    const repo = m.getRepository(PaymentRouteEntity);
    const where = [
      ...(pi ? [{ tenant_id: tenantId, stripe_payment_intent_id: pi, type: PaymentRouteType.Payment }] : []),
      ...(charge ? [{ tenant_id: tenantId, stripe_object_id: charge, type: PaymentRouteType.Payment }] : []),
    ];
    if (!where.length) return null;
    return (await repo.findOne({ where, select: { id: true } }))?.id ?? null;
  }

  async list(caller: Caller, q: ListDisputesQueryDto): Promise<DisputeListDto> {
    const scope = tenantScopeOf(caller);
    if (scope !== null && q.tenant_id !== undefined && q.tenant_id !== scope)
      throw new ServiceException(ErrorCode.Forbidden, 'A tenant caller lists only its own disputes');
    const page = await this.repo.list({
      tenantId: scope ?? q.tenant_id ?? null,
      status: q.status,
      dueBefore: q['evidence_due_by[lt]'],
      limit: q.limit,
      cursor: q.cursor,
    });
    return {
      data: page.rows.map((r) => DisputeDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  async get(caller: Caller, id: string): Promise<DisputeRow> {
    const row = await this.repo.get(this.dataSource, id);
    if (!row) throw new ServiceException(ErrorCode.NotFound, 'Dispute not found');
    assertTenantAccess(caller, row.tenant_id);
    return row;
  }

  private assertOpen(row: DisputeRow, what: string): void {
    if (isClosed(row.status))
      throw new ServiceException(ErrorCode.DisputeNotOpen, `The dispute is closed (${row.status}): ${what}`);
    if (row.evidence_submitted || row.status === 'under_review' || row.status === 'warning_under_review')
      throw new ServiceException(ErrorCode.DisputeNotOpen, `The dispute's evidence was submitted: ${what}`);
    if (row.evidence_due_by && row.evidence_due_by.getTime() < Date.now())
      throw new ServiceException(
        ErrorCode.DisputeNotOpen,
        `The evidence deadline passed at ${row.evidence_due_by.toISOString()}: ${what}`,
      );
  }

  /** Stripe's refusals that mean the dispute no longer takes this, as our code. */
  private async callStripe(work: () => Promise<StripeDispute>): Promise<StripeDispute> {
    try {
      return await work();
    } catch (err) {
      const code = stripeErrorCode(err);
      if (code && /^dispute_/.test(code))
        throw new ServiceException(ErrorCode.DisputeNotOpen, (err as Error).message);
      throw err;
    }
  }

  /**
   * https://docs.stripe.com/api/disputes/update: refused after the deadline or once submitted. The dispute's lock
   * is held through the Stripe call, so concurrent posts run one after the other; a submission repeated once the
   * same evidence is submitted (a concurrent twin, a client's retry) answers what Stripe holds without a second update.
   */
  async evidence(
    caller: Caller,
    id: string,
    evidence: StripeDisputeEvidenceParams,
    submit: boolean,
  ): Promise<DisputeDto> {
    const found = await this.get(caller, id);
    const options = found.stripe_account_id ? { stripeAccount: found.stripe_account_id } : {};
    return this.dataSource.transaction(async (m) => {
      await this.repo.lock(m, found.tenant_id, found.stripe_dispute_id);
      const row = (await this.repo.get(m, found.id)) ?? found;
      if (submit && row.evidence_submitted) {
        const held = await this.gateway.money.retrieveDispute(row.stripe_dispute_id, options);
        if (holdsEvidence(held, evidence)) return DisputeDto.from(row, held.evidence);
      }
      this.assertOpen(row, 'evidence can no longer change');
      const d = await this.callStripe(() =>
        this.gateway.money.updateDispute(
          row.stripe_dispute_id,
          { evidence, submit },
          // One submission per dispute; drafts may be saved again and again.
          submit
            ? { ...options, idempotencyKey: `dispute-evidence:${row.stripe_dispute_id}:submit` }
            : options,
        ),
      );
      await this.apply(m, row.tenant_id, d, row.stripe_account_id, null);
      // As stored, so this answer and a waiting twin's (which reads the committed row) are the same.
      return DisputeDto.from((await this.repo.get(m, row.id)) ?? row, d.evidence);
    });
  }

  /** https://docs.stripe.com/api/disputes/close: accepting concedes the dispute (it ends `lost`). */
  async accept(caller: Caller, id: string): Promise<DisputeDto> {
    const row = await this.get(caller, id);
    if (isClosed(row.status))
      throw new ServiceException(ErrorCode.DisputeNotOpen, `The dispute is already closed (${row.status})`);
    const d = await this.callStripe(() =>
      this.gateway.money.closeDispute(row.stripe_dispute_id, {
        ...(row.stripe_account_id ? { stripeAccount: row.stripe_account_id } : {}),
        idempotencyKey: `dispute-accept:${row.stripe_dispute_id}`,
      }),
    );
    const saved = await this.dataSource.transaction((m) =>
      this.apply(m, row.tenant_id, d, row.stripe_account_id, null),
    );
    return DisputeDto.from(saved ?? (await this.get(caller, id)), d.evidence);
  }
}

/** Every field of `asked` is what the dispute's evidence at Stripe holds (a file field by its id). */
function holdsEvidence(d: StripeDispute, asked: StripeDisputeEvidenceParams): boolean {
  const held = d.evidence as unknown as Record<string, unknown>;
  return Object.entries(asked as Record<string, unknown>).every(([field, value]) => {
    const at = held[field];
    const atId = at && typeof at === 'object' ? (at as { id?: unknown }).id : at;
    return (atId ?? null) === (value ?? null) || (atId ?? '') === (value ?? '');
  });
}

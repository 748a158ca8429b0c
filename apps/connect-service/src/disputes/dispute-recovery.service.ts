import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ErrorCode, ServiceException } from '@app/common';
import { moneyConfig } from '@app/config';
import { ConnectAccountEntity, DisputeRecovery } from '@app/database';
import { StripeGateway, stripeErrorCode } from '@app/stripe-gateway';
import { AuditLogService } from '../audit/audit-log.service';
import { EventsService } from '../events/events.service';
import { JobQueue } from '../queue/job-queue.service';
import { recoveryIdempotencyKey, reversalAmount } from './dispute-state.util';
import { DisputeRow, DisputesRepository } from './disputes.repository';
import { DISPUTE_RECOVERY_QUEUE, DisputeRecoveryJob } from './disputes.queues';
import { disputeEventData } from './disputes.service';

/** A refusal by Stripe (4xx), as opposed to Stripe being unreachable: retrying would only be refused again. */
function refusalOf(err: unknown): { code: string; message: string } | null {
  if (!(err instanceof ServiceException) || err.code !== ErrorCode.StripeRequestFailed) return null;
  return { code: stripeErrorCode(err) ?? 'stripe_refused', message: err.message };
}

/**
 * Recovers a platform-liable dispute from the tenant: reverses the dispute's amount from the tenant's transfer
 * (https://docs.stripe.com/connect/destination-charges#disputes-and-chargebacks) and transfers it back once when
 * the dispute is won. Each step carries an idempotency key derived from the dispute and the step, so two
 * deliveries, two replicas or a retried job make one movement at Stripe; the row records every movement.
 */
@Injectable()
export class DisputeRecoveryService {
  private readonly logger = new Logger('DisputeRecovery');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(moneyConfig.KEY) private readonly cfg: ConfigType<typeof moneyConfig>,
    private readonly gateway: StripeGateway,
    private readonly repo: DisputesRepository,
    private readonly events: EventsService,
    private readonly audit: AuditLogService,
    private readonly queue: JobQueue,
  ) {}

  async run(job: DisputeRecoveryJob): Promise<void> {
    const row = await this.repo.get(this.dataSource, job.disputeId);
    if (!row || row.tenant_id !== job.tenantId) return;
    if (job.step === 'reverse' && row.recovery.status === 'pending') await this.reverse(row);
    if (job.step === 'return' && row.recovery.status === 'reversed' && row.status === 'won')
      await this.giveBack(row);
  }

  private async reverse(row: DisputeRow): Promise<void> {
    if (!row.charge_id)
      return this.fail(row, 'no_charge', 'The dispute names no charge to find the transfer of');
    const charge = await this.gateway.retrieveCharge(row.charge_id);
    const transferId = typeof charge.transfer === 'string' ? charge.transfer : (charge.transfer?.id ?? null);
    if (!transferId)
      return this.fail(row, 'no_transfer', `Charge ${row.charge_id} has no transfer to reverse`);
    const transfer = await this.gateway.retrieveTransfer(transferId);
    const amount = reversalAmount(
      row.amount,
      row.dispute_fee,
      this.cfg.disputeRecoverFee,
      transfer.amount - transfer.amount_reversed,
    );
    if (amount === 0)
      return this.fail(row, 'transfer_fully_reversed', `Transfer ${transferId} has nothing left to reverse`);
    let reversalId: string;
    try {
      const reversal = await this.gateway.createTransferReversal(
        transferId,
        { amount, metadata: { dispute: row.stripe_dispute_id, tenant_id: row.tenant_id } },
        { idempotencyKey: recoveryIdempotencyKey(row.stripe_dispute_id, 'reverse') },
      );
      reversalId = reversal.id;
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      return this.fail(row, refusal.code, refusal.message, transferId);
    }
    await this.record(row, 'pending', (r) => ({
      ...r,
      status: 'reversed',
      transfer_id: transferId,
      reversed_amount: amount,
      movements: [
        ...r.movements,
        { step: 'reverse', amount, stripe_id: reversalId, at: new Date().toISOString() },
      ],
    }));
  }

  private async giveBack(row: DisputeRow): Promise<void> {
    const account = await this.dataSource
      .getRepository(ConnectAccountEntity)
      .findOneBy({ tenant_id: row.tenant_id });
    if (!account) return this.fail(row, 'no_account', `Tenant ${row.tenant_id} has no connected account`);
    const amount = row.recovery.reversed_amount;
    let transferId: string;
    try {
      const transfer = await this.gateway.createTransfer(
        {
          amount,
          currency: row.currency,
          destination: account.stripe_account_id,
          description: `Dispute ${row.stripe_dispute_id} won: recovered amount returned`,
          metadata: { dispute: row.stripe_dispute_id, tenant_id: row.tenant_id },
        },
        { idempotencyKey: recoveryIdempotencyKey(row.stripe_dispute_id, 'return') },
      );
      transferId = transfer.id;
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      return this.fail(row, refusal.code, refusal.message);
    }
    await this.record(row, 'reversed', (r) => ({
      ...r,
      status: 'returned',
      returned_amount: amount,
      movements: [
        ...r.movements,
        { step: 'return', amount, stripe_id: transferId, at: new Date().toISOString() },
      ],
    }));
  }

  /** Stripe refused: the dispute says so, once, with Stripe's reason; no retry. */
  private async fail(row: DisputeRow, code: string, reason: string, transferId?: string): Promise<void> {
    this.logger.warn(`recovery of dispute ${row.stripe_dispute_id} failed: ${code} ${reason}`);
    await this.record(
      row,
      row.recovery.status,
      (r) => ({
        ...r,
        status: 'failed',
        failure_code: code,
        failure_reason: reason,
        transfer_id: transferId ?? r.transfer_id,
      }),
      'connect.dispute.recovery_failed',
    );
  }

  /** Writes the recovery when the row is still in `expected` (another worker may have been first), audit-logged with its event. */
  private async record(
    row: DisputeRow,
    expected: DisputeRecovery['status'],
    next: (r: DisputeRecovery) => DisputeRecovery,
    eventType: 'connect.dispute.updated' | 'connect.dispute.recovery_failed' = 'connect.dispute.updated',
  ): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await this.repo.lock(m, row.tenant_id, row.stripe_dispute_id);
      const current = await this.repo.get(m, row.id);
      if (!current || current.recovery.status !== expected) return;
      const saved = await this.repo.setRecovery(m, current, next(current.recovery));
      await this.events.emit(m, {
        type: eventType,
        tenant_id: saved.tenant_id,
        data: disputeEventData(saved),
      });
      await this.audit.record(
        {
          action: 'dispute.recovery',
          outcome: saved.recovery.status === 'failed' ? 'failure' : 'success',
          tenantId: saved.tenant_id,
          targetType: 'dispute',
          targetId: saved.id,
          details: { recovery: saved.recovery },
          actor: { id: null, type: 'system' },
        },
        m,
      );
      // Won while the reversal was still running: the money goes back now.
      if (saved.recovery.status === 'reversed' && saved.status === 'won') {
        await this.queue.send<DisputeRecoveryJob>(
          DISPUTE_RECOVERY_QUEUE,
          { tenantId: saved.tenant_id, disputeId: saved.id, step: 'return' },
          { manager: m, singletonKey: `${saved.id}:return` },
        );
      }
    });
  }
}

import { EmulatorState, emitEvent, Route } from '../context';
import { invalidRequest, resourceMissing } from '../errors';
import { newId, nowSeconds } from '../ids';
import { isRecord, mergeMetadata, optBool, optObject } from '../params';
import { StripeObject } from '../store';
import { recordBalanceTransaction } from './balance.resource';
import { findOwned, listRoute, retrieveRoute } from './crud-helpers';
import { EVIDENCE_TEXT_FIELDS } from '@app/common/dispute-evidence';

/**
 * Disputes and inquiries, on the account that owns the charge: that balance (the platform's for destination
 * charges, the connected account's for direct charges) is debited the amount and the fee, and credited back
 * when the dispute is won. https://docs.stripe.com/disputes/how-disputes-work
 */

/** Stripe's dispute fee in the emulator, per dispute, in minor units (https://stripe.com/pricing). */
export const DISPUTE_FEE = 1500;

/** Days the merchant has to respond (Stripe's deadline varies by network; 7 to 21 days). */
const RESPONSE_DAYS = 7;

const FILE_FIELDS = [
  'cancellation_policy',
  'customer_communication',
  'customer_signature',
  'duplicate_charge_documentation',
  'receipt',
  'refund_policy',
  'service_documentation',
  'shipping_documentation',
  'uncategorized_file',
] as const;

const CLOSED = new Set(['won', 'lost', 'warning_closed']);

function emptyEvidence(): Record<string, null> {
  const out: Record<string, null> = {};
  for (const f of [...EVIDENCE_TEXT_FIELDS, ...FILE_FIELDS]) out[f] = null;
  return out;
}

function evidenceDetails(dispute: StripeObject): Record<string, unknown> {
  return dispute.evidence_details as Record<string, unknown>;
}

/** Balance movement of a dispute on the liable balance, listed on the dispute (https://docs.stripe.com/api/disputes/object#dispute_object-balance_transactions). */
function moveFunds(emu: EmulatorState, owner: string, dispute: StripeObject, withdraw: boolean): void {
  const amount = dispute.amount as number;
  const currency = dispute.currency as string;
  const txn = recordBalanceTransaction(emu, owner, {
    amount: withdraw ? -amount : amount,
    currency,
    type: 'adjustment',
    source: dispute.id,
    category: withdraw ? 'dispute' : 'dispute_reversal',
    description: withdraw
      ? `Chargeback withdrawal for ${String(dispute.charge)}`
      : `Chargeback reversal for ${String(dispute.charge)}`,
    feeDetails: withdraw
      ? [{ amount: DISPUTE_FEE, application: null, currency, description: 'Dispute fee', type: 'stripe_fee' }]
      : [],
    availableOn: nowSeconds(),
  });
  (dispute.balance_transactions as StripeObject[]).push(txn);
  emu.webhooks.emit(
    withdraw ? 'charge.dispute.funds_withdrawn' : 'charge.dispute.funds_reinstated',
    dispute,
    owner,
    null,
  );
}

/** Control API: a cardholder disputes a charge (`inquiry`: a pre-dispute inquiry, no funds move yet). */
export function createDispute(
  emu: EmulatorState,
  chargeId: string,
  opts: { reason?: string; amount?: number; inquiry?: boolean } = {},
): StripeObject {
  const entry = emu.store.entry('charge', chargeId);
  if (!entry) throw resourceMissing('charge', chargeId, 'charge');
  const charge = entry.obj;
  const disputable = (charge.amount_captured as number) - (charge.amount_refunded as number);
  const amount = opts.amount ?? disputable;
  if (!Number.isInteger(amount) || amount <= 0 || amount > disputable) {
    throw invalidRequest(`amount must be an integer between 1 and ${disputable}`, { param: 'amount' });
  }
  const created = nowSeconds();
  const dispute: StripeObject = {
    id: newId('du'),
    object: 'dispute',
    amount,
    balance_transactions: [],
    charge: charge.id,
    created,
    currency: charge.currency,
    evidence: emptyEvidence(),
    evidence_details: {
      due_by: created + RESPONSE_DAYS * 86_400,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    is_charge_refundable: opts.inquiry === true,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent,
    reason: opts.reason ?? 'fraudulent',
    status: opts.inquiry ? 'warning_needs_response' : 'needs_response',
  };
  emu.store.put('dispute', entry.owner, dispute);
  charge.disputed = true;
  emu.webhooks.emit('charge.dispute.created', dispute, entry.owner, null);
  if (!opts.inquiry) moveFunds(emu, entry.owner, dispute, true);
  return dispute;
}

/** Closes a dispute with the card network's decision: won gives the amount back (not the fee). */
export function closeDispute(emu: EmulatorState, disputeId: string, outcome: 'won' | 'lost'): StripeObject {
  const entry = emu.store.entry('dispute', disputeId);
  if (!entry) throw resourceMissing('dispute', disputeId, 'dispute');
  const dispute = entry.obj;
  if (CLOSED.has(dispute.status as string)) {
    throw invalidRequest(`This dispute is already closed (${String(dispute.status)}).`, {
      code: 'dispute_already_closed',
    });
  }
  const previous = { status: dispute.status };
  const inquiry = String(dispute.status).startsWith('warning_');
  dispute.status = inquiry ? 'warning_closed' : outcome;
  dispute.is_charge_refundable = false;
  emu.webhooks.emit('charge.dispute.closed', dispute, entry.owner, null, previous);
  if (!inquiry && outcome === 'won') moveFunds(emu, entry.owner, dispute, false);
  return dispute;
}

/** Control API: the response deadline passes (evidence can no longer be submitted). */
export function expireDispute(emu: EmulatorState, disputeId: string): StripeObject {
  const entry = emu.store.entry('dispute', disputeId);
  if (!entry) throw resourceMissing('dispute', disputeId, 'dispute');
  const details = evidenceDetails(entry.obj);
  const previous = { evidence_details: { ...details } };
  Object.assign(details, { due_by: nowSeconds() - 1, past_due: true });
  emu.webhooks.emit('charge.dispute.updated', entry.obj, entry.owner, null, previous);
  return entry.obj;
}

function assertOpen(dispute: StripeObject): void {
  if (CLOSED.has(dispute.status as string)) {
    throw invalidRequest(`This dispute is already closed (${String(dispute.status)}).`, {
      code: 'dispute_already_closed',
    });
  }
}

export function disputesRoutes(): Route[] {
  return [
    listRoute('dispute', '/v1/disputes', ['charge', 'payment_intent']),
    retrieveRoute('dispute', '/v1/disputes/:id', 'dispute'),
    {
      method: 'POST',
      path: '/v1/disputes/:id',
      handler: (ctx) => {
        const dispute = findOwned(ctx, 'dispute', ctx.pathParams.id, 'dispute');
        const evidence = optObject(ctx.params, 'evidence');
        const submit = optBool(ctx.params, 'submit') === true;
        const details = evidenceDetails(dispute);
        if (evidence !== undefined || submit) {
          assertOpen(dispute);
          if (details.past_due === true || (details.due_by as number) < nowSeconds()) {
            throw invalidRequest('The evidence submission deadline for this dispute has passed.', {
              code: 'dispute_evidence_past_due',
            });
          }
          if (String(dispute.status).endsWith('under_review')) {
            throw invalidRequest(
              'This dispute is already under review: evidence was submitted and can no longer change.',
              { code: 'dispute_already_submitted' },
            );
          }
        }
        const previous: Record<string, unknown> = {};
        if (evidence !== undefined) {
          const current = dispute.evidence as Record<string, unknown>;
          previous.evidence = { ...current };
          for (const [k, v] of Object.entries(evidence)) {
            if (!(k in current) || isRecord(v))
              throw invalidRequest(`Invalid evidence field: ${k}`, { param: `evidence[${k}]` });
            current[k] = v === '' ? null : String(v);
          }
          details.has_evidence = Object.values(current).some((v) => v !== null);
        }
        if (ctx.params.metadata !== undefined) {
          previous.metadata = dispute.metadata;
          dispute.metadata = mergeMetadata(dispute.metadata, ctx.params.metadata);
        }
        if (submit) {
          previous.status = dispute.status;
          dispute.status =
            dispute.status === 'warning_needs_response' ? 'warning_under_review' : 'under_review';
          details.submission_count = (details.submission_count as number) + 1;
        }
        emitEvent(ctx, 'charge.dispute.updated', dispute, ctx.owner, previous);
        return { body: dispute };
      },
    },
    {
      method: 'POST',
      path: '/v1/disputes/:id/close',
      handler: (ctx) => {
        const dispute = findOwned(ctx, 'dispute', ctx.pathParams.id, 'dispute');
        assertOpen(dispute);
        // Accepting a dispute concedes it: https://docs.stripe.com/api/disputes/close
        return { body: closeDispute(ctx.emu, dispute.id, 'lost') };
      },
    },
  ];
}

import { Injectable } from '@nestjs/common';
import type { WindowListItems } from '@app/stripe-gateway';
import { chargesToCompare, compareCharges } from './charge.drift';
import { DriftInputs } from './drift-inputs';
import { Comparison, JobOwner, isOurs } from './drift.types';
import { compareFees, feesOf } from './fee.drift';
import { compareIntents } from './intent.drift';
import { compareRefunds } from './refund.drift';
import { compareSubscriptions, linkInvoices, subscriptionOf } from './subscription.drift';
import { compareTransfers } from './transfer.drift';

type Items<L extends keyof WindowListItems> = WindowListItems[L][];

/** Each drift family: keep this tenant's objects, read our rows for them, then run its pure comparer. */
@Injectable()
export class DriftFamilies {
  constructor(private readonly inputs: DriftInputs) {}

  /** `onAccount` null: PaymentIntents re-read by id, ours by construction. */
  async intents(o: JobOwner, pis: Items<'payment_intents'>, onAccount: boolean | null): Promise<Comparison> {
    const mine = onAccount === null ? pis : pis.filter((pi) => isOurs(o, pi, onAccount));
    return compareIntents(mine, await this.inputs.forIntents(o, mine));
  }

  async refunds(o: JobOwner, refunds: Items<'refunds'>): Promise<Comparison> {
    return compareRefunds(refunds, await this.inputs.forRefunds(o, refunds));
  }

  async charges(o: JobOwner, charges: Items<'charges'>, onAccount: boolean): Promise<Comparison> {
    const mine = chargesToCompare(charges, o, onAccount);
    return compareCharges(mine, await this.inputs.forCharges(o, mine));
  }

  async fees(o: JobOwner, fees: Items<'application_fees'>): Promise<Comparison> {
    const mine = feesOf(fees, o);
    return compareFees(mine, await this.inputs.forFees(o, mine));
  }

  async transfers(o: JobOwner, transfers: Items<'transfers'>): Promise<Comparison> {
    return compareTransfers(transfers, await this.inputs.forTransfers(o, transfers), o);
  }

  async subscriptions(o: JobOwner, subs: Items<'subscriptions'>): Promise<Comparison> {
    return compareSubscriptions(subs, await this.inputs.forSubscriptions(o, subs));
  }

  async invoices(o: JobOwner, invoices: Items<'invoices'>): Promise<Comparison> {
    return linkInvoices(invoices, await this.inputs.forInvoices(o, invoices, subscriptionOf));
  }
}

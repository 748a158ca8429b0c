import { ErrorCode, ServiceException } from '@app/common';
import type { StripeList, StripeReadOptions, WindowList, WindowListItems } from '@app/stripe-gateway';
import { StripeGateway, listWindowPage } from '@app/stripe-gateway';
import { RequestPacer } from './drift-rules';
import { Obj } from './drift/drift.types';
import { JobContext } from './reconciliation-job';

/** Stripe's `created` and our `created_at` come from two clocks: lists reach this far past the window's edges. */
const EDGE_SLACK_SECONDS = 60;

/** One job's Stripe reads: paced (the replica's budget), counted on the job, windowed on the run. */
export class JobStripe {
  readonly account: StripeReadOptions;

  constructor(
    readonly gateway: StripeGateway,
    private readonly pacer: RequestPacer,
    private readonly ctx: JobContext,
    private readonly pageSize: number,
  ) {
    this.account = { stripeAccount: ctx.job.stripe_account_id };
  }

  async call<T>(fn: (gateway: StripeGateway) => Promise<T>): Promise<T> {
    await this.pacer.take();
    this.ctx.calls += 1;
    return fn(this.gateway);
  }

  /** Null when Stripe answers 404 (the object does not exist there). */
  async retrieve<T>(fn: (gateway: StripeGateway) => Promise<T>): Promise<T | null> {
    try {
      return await this.call(fn);
    } catch (err) {
      const stripe = err instanceof ServiceException ? (err.details?.stripe as Obj | undefined) : undefined;
      if (
        err instanceof ServiceException &&
        err.code === ErrorCode.StripeRequestFailed &&
        (stripe?.status === 404 || stripe?.code === 'resource_missing')
      )
        return null;
      throw err;
    }
  }

  /** One page of a list over the run's window, on the account or on the platform. */
  window<L extends WindowList>(
    list: L,
    after: string | null,
    on: { onAccount: boolean; destination?: string; status?: string },
  ): Promise<StripeList<WindowListItems[L]>> {
    return this.call((gateway) =>
      listWindowPage(
        gateway,
        list,
        {
          from: this.ctx.run.window_from,
          to: this.ctx.run.window_to,
          slackSeconds: EDGE_SLACK_SECONDS,
          limit: this.pageSize,
          after,
          destination: on.destination,
          status: on.status,
        },
        on.onAccount ? this.account : undefined,
      ),
    );
  }
}

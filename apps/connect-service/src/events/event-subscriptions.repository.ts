import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { affected, one, sql } from '@app/database';

/** event_subscriptions' failure streak: reset by a success, and the subscription disabled at its limit. */
@Injectable()
export class EventSubscriptionsRepository {
  async resetFailures(manager: EntityManager, id: string): Promise<void> {
    await affected(
      manager,
      sql`UPDATE event_subscriptions SET consecutive_failures = 0, updated_at = now()
           WHERE id = ${id} AND consecutive_failures > 0`,
    );
  }

  /** One more failed delivery; true when it is the one that disabled the subscription. */
  async countFailure(
    manager: EntityManager,
    id: string,
    disableAfter: number,
    error: string,
  ): Promise<boolean> {
    const row = await one<{ just_disabled: boolean }>(
      manager,
      sql`UPDATE event_subscriptions
             SET consecutive_failures = consecutive_failures + 1,
                 status = CASE WHEN consecutive_failures + 1 >= ${disableAfter}
                   THEN 'disabled'::event_subscription_status ELSE status END,
                 disabled_at = CASE WHEN consecutive_failures + 1 >= ${disableAfter} AND status = 'active'
                   THEN now() ELSE disabled_at END,
                 disabled_reason = CASE WHEN consecutive_failures + 1 >= ${disableAfter} AND status = 'active'
                   THEN 'disabled after ' || (consecutive_failures + 1) || ' consecutive failed deliveries (last: '
                     || ${error} || ')'
                   ELSE disabled_reason END,
                 updated_at = now()
           WHERE id = ${id}
           RETURNING (status = 'disabled' AND disabled_at = now()) AS just_disabled`,
    );
    return row?.just_disabled ?? false;
  }
}

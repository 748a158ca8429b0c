import { Logger } from '@nestjs/common';
import {
  EntityManager,
  EntitySubscriberInterface,
  EventSubscriber,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

type Callback = () => Promise<void> | void;

const pending = new WeakMap<QueryRunner, Callback[]>();
const logger = new Logger('AfterCommit');

async function runAll(callbacks: Callback[]): Promise<void> {
  for (const fn of callbacks) {
    try {
      await fn();
    } catch (err) {
      logger.warn(`after-commit callback failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * Runs `fn` once the transaction `manager` belongs to has committed, or now when there is none. For side effects
 * outside PostgreSQL that must not see uncommitted state, e.g. dropping a cache entry: dropped before the commit,
 * a concurrent reader could cache the old row again until its TTL ends. Dropped on rollback.
 */
export async function afterCommit(manager: EntityManager, fn: Callback): Promise<void> {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) return runAll([fn]);
  pending.set(runner, [...(pending.get(runner) ?? []), fn]);
}

/** Registered on the data source (data-source-options.ts); TypeORM broadcasts transaction events to it. */
@EventSubscriber()
export class AfterCommitSubscriber implements EntitySubscriberInterface {
  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    // A released savepoint also broadcasts "commit": wait for the outermost transaction.
    if (event.queryRunner.isTransactionActive) return;
    const callbacks = pending.get(event.queryRunner);
    if (!callbacks) return;
    pending.delete(event.queryRunner);
    await runAll(callbacks);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) pending.delete(event.queryRunner);
  }
}

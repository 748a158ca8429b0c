import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { Caller, assertTenantAccess, isPlatform, tenantScopeOf } from '@app/auth';
import { ServiceException, keysetPage, ErrorCode } from '@app/common';
import {
  ConnectEventEntity,
  EventDeliveryAttemptEntity,
  EventDeliveryEntity,
  EventSubscriptionEntity,
  EventSubscriptionStatus,
} from '@app/database';
import { Sql } from '@app/database';
import { JobQueue } from '../queue/job-queue.service';
import { traceCarrierJson } from '../tracing/trace-context';
import { ConnectEventRow, ConnectEventsRepository } from './connect-events.repository';
import { ConnectEventType } from './connect-event-types';
import { subscriptionMatches } from './delivery-policy';
import { ConnectEventDto, ConnectEventListDto, ListConnectEventsQueryDto } from './dto/connect-event.dto';
import { EventDeliveryDto } from './dto/event-delivery.dto';
import { EventDeliveriesRepository } from './event-deliveries.repository';
import { DELIVER_QUEUE, DeliverJob, EventQueues } from './events.queues';

export interface EmitConnectEvent {
  type: ConnectEventType;
  tenant_id: string;
  data: Record<string, unknown>;
}

@Injectable()
export class EventsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queue: JobQueue,
    private readonly queues: EventQueues,
    private readonly rows: ConnectEventsRepository,
    private readonly deliveryRows: EventDeliveriesRepository,
  ) {}

  /**
   * Writes a ConnectEvent in the caller's transaction and, in the same transaction, enqueues its fan-out
   * (transactional outbox): the event exists and will be delivered exactly when the state change commits.
   * On the webhook and payment hot paths, so: one statement (the event row and its dispatch job), nothing else.
   * `alongside`: a data-modifying statement of the caller's (INSERT, UPDATE or DELETE) run as part of the same
   * statement, to save its round trip.
   */
  async emit(manager: EntityManager, e: EmitConnectEvent, alongside?: Sql): Promise<{ id: string }> {
    await this.queues.ensure();
    const row = this.rowOf(e);
    await this.rows.insert(manager, row, alongside);
    return { id: row.id };
  }

  /**
   * emit() inside a caller's own statement: the CTEs `${name}` (the event, once per row of `source`) and
   * `${name}_job` (its dispatch job, as `send` would create it). The change, its event and the job then commit in
   * one statement, without a transaction of their own.
   */
  async emitSql(name: string, source: string, e: EmitConnectEvent): Promise<Sql> {
    await this.queues.ensure();
    return this.rows.insertCtes(name, this.rowOf(e), source);
  }

  /** The job's data carries the emitter's trace context ('{}' when tracing is off), as JobQueue.send would. */
  private rowOf(e: EmitConnectEvent): ConnectEventRow {
    return {
      id: randomUUID(),
      type: e.type,
      tenant_id: e.tenant_id,
      data: e.data,
      carrier: traceCarrierJson(),
    };
  }

  async list(caller: Caller, q: ListConnectEventsQueryDto): Promise<ConnectEventListDto> {
    const limit = q.limit ?? 20;
    // A tenant caller is pinned to its tenant (the TenantGuard already refused a foreign `tenant_id`).
    const tenantId = tenantScopeOf(caller) ?? q.tenant_id ?? null;
    const qb = this.dataSource.getRepository(ConnectEventEntity).createQueryBuilder('e');
    if (tenantId !== null) qb.andWhere('e.tenant_id = :tenantId', { tenantId });
    if (q.type) qb.andWhere('e.type = :type', { type: q.type });
    if (q.created_gte) qb.andWhere('e.created_at >= :gte', { gte: new Date(q.created_gte) });
    if (q.created_lt) qb.andWhere('e.created_at < :lt', { lt: new Date(q.created_lt) });
    const page = await keysetPage(qb, { column: 'created_at', limit, cursor: q.cursor });
    return {
      data: page.rows.map((r) => ConnectEventDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  /** A foreign event answers exactly like a missing one. */
  async get(caller: Caller, id: string): Promise<ConnectEventEntity> {
    const event = await this.dataSource.getRepository(ConnectEventEntity).findOneBy({ id });
    if (!event) throw new ServiceException(ErrorCode.NotFound, `No event ${id}`);
    assertTenantAccess(caller, event.tenant_id);
    return event;
  }

  /** The deliveries of an event to the subscriptions the caller manages, each with its attempt log. */
  async deliveries(caller: Caller, eventId: string): Promise<EventDeliveryDto[]> {
    const event = await this.get(caller, eventId);
    const qb = this.dataSource
      .getRepository(EventDeliveryEntity)
      .createQueryBuilder('d')
      .innerJoin(EventSubscriptionEntity, 's', 's.id = d.subscription_id')
      .where('d.event_id = :eventId', { eventId: event.id });
    // Tenant admins see deliveries to their own subscriptions, not to the platform's all-tenant endpoints.
    if (!isPlatform(caller)) qb.andWhere('s.tenant_id = :tenantId', { tenantId: caller.tenantId });
    const deliveries = await qb.orderBy('d.created_at', 'ASC').addOrderBy('d.id', 'ASC').getMany();
    if (!deliveries.length) return [];
    const attempts = await this.dataSource.getRepository(EventDeliveryAttemptEntity).find({
      where: { delivery_id: In(deliveries.map((d) => d.id)) },
      order: { attempt_no: 'ASC' },
    });
    return deliveries.map((d) =>
      EventDeliveryDto.from(
        d,
        attempts.filter((a) => a.delivery_id === d.id),
      ),
    );
  }

  /**
   * Starts a new round of attempts (the full retry schedule again) for one subscription or for every active
   * subscription the event matches. A round counter makes jobs of the previous round stop on their own.
   */
  async redeliver(caller: Caller, eventId: string, subscriptionId?: string): Promise<EventDeliveryDto[]> {
    const event = await this.get(caller, eventId);
    const ownOnly = !isPlatform(caller);
    await this.queues.ensure();
    const ids = await this.dataSource.transaction(async (manager) => {
      let targets: EventSubscriptionEntity[];
      if (subscriptionId) {
        const sub = await manager.getRepository(EventSubscriptionEntity).findOneBy({ id: subscriptionId });
        if (!sub || sub.deleted_at || (ownOnly && sub.tenant_id !== caller.tenantId)) {
          throw new ServiceException(ErrorCode.NotFound, `No subscription ${subscriptionId}`);
        }
        if (!subscriptionMatches(sub, event)) {
          throw new ServiceException(
            ErrorCode.Conflict,
            'The subscription does not receive events of this type or tenant',
          );
        }
        if (sub.status !== EventSubscriptionStatus.Active) {
          throw new ServiceException(
            ErrorCode.Conflict,
            'The subscription is disabled: enable it before redelivering',
          );
        }
        targets = [sub];
      } else {
        const qb = manager
          .getRepository(EventSubscriptionEntity)
          .createQueryBuilder('s')
          .where('s.status = :active AND s.deleted_at IS NULL', { active: EventSubscriptionStatus.Active })
          .andWhere('(s.tenant_id IS NULL OR s.tenant_id = :tenantId)', { tenantId: event.tenant_id })
          .andWhere(`s.event_types && ARRAY[:type, '*']::text[]`, { type: event.type });
        if (ownOnly) qb.andWhere('s.tenant_id = :own', { own: caller.tenantId });
        targets = await qb.getMany();
      }
      const out: string[] = [];
      for (const sub of targets) {
        const { id, round } = await this.deliveryRows.startRound(manager, event, sub.id);
        await this.queue.send<DeliverJob>(
          DELIVER_QUEUE,
          { deliveryId: id, tenantId: event.tenant_id, round, step: 0 },
          { manager },
        );
        out.push(id);
      }
      return out;
    });
    const all = await this.deliveries(caller, event.id);
    return all.filter((d) => ids.includes(d.id));
  }
}
